// Benchmark transform in JavaScript for SpiderMonkey (componentize-js, the
// weir:plugin/processor world; one module, no SDK imports): upper-cases the
// ASCII letters of each value, byte by byte; key, headers and event time are
// kept. packed.js is the same transform for QuickJS.

export function configure(config) {}

export function process(batch) {
  const out = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i];
    const src = r.value;
    const value = new Uint8Array(src.length);
    for (let j = 0; j < src.length; j++) {
      const c = src[j];
      value[j] = c >= 97 && c <= 122 ? c - 32 : c;
    }
    out[i] = { key: r.key, value, headers: r.headers, eventTime: r.eventTime };
  }
  return out;
}
