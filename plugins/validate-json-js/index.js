// Example (named outputs, JavaScript): passes records whose value is a JSON
// object; sends every other record to the output "invalid" (header
// `weir-output`), with a header `reason`. Downstream nodes read them as
// "<node id>.invalid"; the good records stay on the default output.
import { encodeUtf8 } from '../../sdk/js/src/utf8.js';

const INVALID = encodeUtf8('invalid');

function problemOf(text) {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'not a JSON object';
  } catch {
    return 'not JSON';
  }
}

export function configure(config) {}

export function processBatch(batch, out) {
  while (batch.next()) {
    const problem = problemOf(batch.valueText());
    out.pass(batch);
    if (!problem) continue;
    out.addHeader('weir-output', INVALID);
    out.addHeader('reason', encodeUtf8(problem));
  }
}
