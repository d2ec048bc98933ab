// Nexmark q1, currency conversion (JavaScript): each bid as
// {"auction","bidder","price","dateTime","extra"} with its price turned from
// dollars to euros, price * 0.908, written exactly with three decimals (as
// Flink's DECIMAL result); other events are dropped. Key and event time are
// kept. Twin: nexmark-q1-rust (same output, byte for byte).
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

/** No settings. */
export function configure() {}

function parse(bytes) {
  try {
    return JSON.parse(decodeUtf8(bytes));
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

export function process(batch) {
  const out = [];
  for (const record of batch) {
    const bid = parse(record.value);
    if (bid === null || typeof bid !== 'object' || bid.type !== 'bid') continue;
    const { auction, bidder, price, dateTime } = bid;
    if (![auction, bidder, price, dateTime].every(isInteger) || !isInteger(price * 908)) continue;
    const extra = JSON.stringify(typeof bid.extra === 'string' ? bid.extra : '');
    const value = `{"auction":${auction},"bidder":${bidder},"price":${euros(price)},"dateTime":${dateTime},"extra":${extra}}`;
    out.push({ key: record.key, value: encodeUtf8(value), headers: record.headers, eventTime: record.eventTime });
  }
  return out;
}
