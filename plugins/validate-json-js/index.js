// Example (named outputs, JavaScript): passes records whose value is a JSON
// object; sends every other record to the output "invalid" (header
// `weir-output`), with a header `reason`. Downstream nodes read them as
// "<node id>.invalid"; the good records stay on the default output.
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

const INVALID = encodeUtf8('invalid');

function problemOf(bytes) {
  try {
    const value = JSON.parse(decodeUtf8(bytes));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? undefined : 'not a JSON object';
  } catch {
    return 'not JSON';
  }
}

export function configure(config) {}

export function process(batch) {
  return batch.map((record) => {
    const problem = problemOf(record.value);
    if (!problem) return record;
    return { ...record, headers: [...record.headers, { name: 'weir-output', value: INVALID }, { name: 'reason', value: encodeUtf8(problem) }] };
  });
}
