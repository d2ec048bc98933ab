// Example (windowed aggregation, JavaScript): the average reading per sensor
// (record key) and window. Values are numbers as text ("21.5"); each closed
// window emits {"sensor", "start", "end", "count", "avg"} as its value, with
// the event time of the window's last millisecond. World: aggregator.
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

const read = (bytes) => JSON.parse(decodeUtf8(bytes));
const write = (value) => encodeUtf8(JSON.stringify(value));

export function configure(config) {}

export function accumulate(accumulator, record) {
  const reading = Number(decodeUtf8(record.value));
  if (!Number.isFinite(reading)) throw { tag: 'invalid-input', val: `not a number: ${decodeUtf8(record.value)}` };
  const total = accumulator ? read(accumulator) : { count: 0, sum: 0 };
  return write({ count: total.count + 1, sum: total.sum + reading });
}

export function merge(a, b) {
  const x = read(a);
  const y = read(b);
  return write({ count: x.count + y.count, sum: x.sum + y.sum });
}

export function emit(key, window, accumulator) {
  const { count, sum } = read(accumulator);
  const summary = { sensor: key ? decodeUtf8(key) : null, start: Number(window.start), end: Number(window.end), count, avg: Math.round((sum / count) * 100) / 100 };
  return [{ key, value: write(summary), headers: [], eventTime: Number(window.end) - 1 }];
}
