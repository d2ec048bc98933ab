// Nexmark q2, selection (JavaScript): the bids on every `auctionSkip`-th
// auction (config, default 123: `auction % 123 == 0`), as
// {"auction","price"}; other events are dropped. Key and event time are kept.
// `processBatch` reads the packed batch in place (sdk/js/README.md).
// Twin: nexmark-q2-rust (same output, byte for byte).

let auctionSkip = 123;

export function configure(config) {
  const parsed = JSON.parse(config);
  if (parsed.auctionSkip === undefined) return;
  if (!Number.isSafeInteger(parsed.auctionSkip) || parsed.auctionSkip <= 0) {
    throw { tag: 'invalid-input', val: 'config.auctionSkip must be a positive integer' };
  }
  auctionSkip = parsed.auctionSkip;
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function processBatch(batch, out) {
  while (batch.next()) {
    const bid = parse(batch.valueText());
    if (bid === null || typeof bid !== 'object' || bid.type !== 'bid') continue;
    const { auction, price } = bid;
    if (!Number.isSafeInteger(auction) || !Number.isSafeInteger(price) || auction % auctionSkip !== 0) continue;
    out.passWithText(batch, `{"auction":${auction},"price":${price}}`);
  }
}
