// Benchmark transform in JavaScript for QuickJS (componentize-qjs, built by
// `host build`): upper-cases the ASCII letters of each value; key, headers and
// event time are kept. Written with the JS SDK's fast API: `processBatch` over
// the packed batch (the host calls process-packed: no record objects), each
// value read as a binary string, upper-cased by QuickJS's native toUpperCase
// (which changes only a-z in ASCII text) and written back as text.
// Values with bytes above 0x7f take a byte loop (toUpperCase would change
// more there). index.js is the same transform for componentize-js.
const NON_ASCII = /[^\x00-\x7f]/;

export function configure(config) {}

export function processBatch(batch, out) {
  while (batch.next()) {
    const text = batch.valueLatin1();
    if (!NON_ASCII.test(text)) {
      out.passWithLatin1(batch, text.toUpperCase());
      continue;
    }
    const value = batch.value.slice();
    for (let j = 0; j < value.length; j++) {
      const c = value[j];
      if (c >= 97 && c <= 122) value[j] = c - 32;
    }
    out.passWithValue(batch, value);
  }
}
