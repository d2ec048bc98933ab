// Nexmark q2, selection (JavaScript): the bids on every `auctionSkip`-th
// auction (config, default 123: `auction % 123 == 0`), as
// {"auction","price"}; other events are dropped. Key and event time are kept.
// Twin: nexmark-q2-rust (same output, byte for byte).
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

let auctionSkip = 123;

export function configure(config) {
  const parsed = JSON.parse(config);
  if (parsed.auctionSkip === undefined) return;
  if (!Number.isSafeInteger(parsed.auctionSkip) || parsed.auctionSkip <= 0) {
    throw { tag: 'invalid-input', val: 'config.auctionSkip must be a positive integer' };
  }
  auctionSkip = parsed.auctionSkip;
}

function parse(bytes) {
  try {
    return JSON.parse(decodeUtf8(bytes));
  } catch {
    return undefined;
  }
}

export function process(batch) {
  const out = [];
  for (const record of batch) {
    const bid = parse(record.value);
    if (bid === null || typeof bid !== 'object' || bid.type !== 'bid') continue;
    const { auction, price } = bid;
    if (!Number.isSafeInteger(auction) || !Number.isSafeInteger(price) || auction % auctionSkip !== 0) continue;
    out.push({ key: record.key, value: encodeUtf8(`{"auction":${auction},"price":${price}}`), headers: record.headers, eventTime: record.eventTime });
  }
  return out;
}
