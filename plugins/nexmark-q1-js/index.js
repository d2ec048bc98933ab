// Nexmark q1, currency conversion (JavaScript): each bid as
// {"auction","bidder","price","dateTime","extra"} with its price turned from
// dollars to euros, price * 0.908, written exactly with three decimals (as
// Flink's DECIMAL result); other events are dropped. Key and event time are
// kept. Twin: nexmark-q1-rust (same output, byte for byte).
// `processBatch` reads the packed batch in place (sdk/js/README.md).

/** No settings. */
export function configure() {}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isInteger = (value) => Number.isSafeInteger(value);

/** price * 0.908 with three decimals, from the integer price * 908 (exact while it is a safe integer). */
function euros(price) {
  const milli = price * 908;
  const magnitude = Math.abs(milli);
  return `${milli < 0 ? '-' : ''}${Math.floor(magnitude / 1000)}.${String(magnitude % 1000).padStart(3, '0')}`;
}

export function processBatch(batch, out) {
  while (batch.next()) {
    const bid = parse(batch.valueText());
    if (bid === null || typeof bid !== 'object' || bid.type !== 'bid') continue;
    const { auction, bidder, price, dateTime } = bid;
    if (![auction, bidder, price, dateTime].every(isInteger) || !isInteger(price * 908)) continue;
    const extra = JSON.stringify(typeof bid.extra === 'string' ? bid.extra : '');
    const value = `{"auction":${auction},"bidder":${bidder},"price":${euros(price)},"dateTime":${dateTime},"extra":${extra}}`;
    out.passWithText(batch, value);
  }
}
