// Example (session windows, JavaScript): groups each user's clicks (record
// key; the value is the page) into sessions that end after a gap of
// inactivity; each session emits {"user", "start", "end", "clicks", "pages"}.
// World: aggregator.
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

const read = (bytes) => JSON.parse(decodeUtf8(bytes));
const write = (value) => encodeUtf8(JSON.stringify(value));

export function configure(config) {}

export function accumulate(accumulator, record) {
  const session = accumulator ? read(accumulator) : { clicks: 0, pages: [] };
  session.clicks++;
  session.pages.push(decodeUtf8(record.value));
  return write(session);
}

export function merge(a, b) {
  const x = read(a);
  const y = read(b);
  return write({ clicks: x.clicks + y.clicks, pages: [...x.pages, ...y.pages] });
}

export function emit(key, window, accumulator) {
  const { clicks, pages } = read(accumulator);
  const session = { user: key ? decodeUtf8(key) : null, start: Number(window.start), end: Number(window.end), clicks, pages };
  return [{ key, value: write(session), headers: [], eventTime: Number(window.end) - 1 }];
}
