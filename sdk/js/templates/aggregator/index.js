// {{name}}: a Weir aggregator in JavaScript, built into a component with componentize-qjs.
// It runs as a windowed processor (the node sets "window" in pipeline.json) and counts
// the records of each key in each window; replace the four functions with your own.
// The contract is wit/plugin.wit (world "aggregator"); sdk/js/README.md has the details.
import { decodeUtf8, encodeUtf8 } from '{{sdk}}/utf8.js';

export function configure(config) {
  // `config` is the node's "config" object from pipeline.json, as JSON text.
  JSON.parse(config);
}

// The accumulator is bytes the host keeps for each key and window: here the count, as text.
export function accumulate(accumulator, record) {
  const count = accumulator ? Number(decodeUtf8(accumulator)) : 0;
  return encodeUtf8(String(count + 1));
}

// Two accumulators of one key become one (session windows that grow together).
export function merge(a, b) {
  return encodeUtf8(String(Number(decodeUtf8(a)) + Number(decodeUtf8(b))));
}

// A closed window: the records it emits, here one with the count.
export function emit(key, window, accumulator) {
  const value = `{"start":${Number(window.start)},"end":${Number(window.end)},"count":${decodeUtf8(accumulator)}}`;
  return [{ key, value: encodeUtf8(value), headers: [], eventTime: Number(window.end) - 1 }];
}
