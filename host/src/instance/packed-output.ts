/**
 * Checks the packed batch a plugin returned from a packed export
 * (`process-packed`) before the host hands it on: it must be bytes, within
 * `limits.maxOutputBytes` both as bytes and as what it would decode into
 * ({@link decodedShape}: the record and header counts from its length fields,
 * read without allocating), and well-formed, header names UTF-8 included
 * (`PackedBatch.fromPluginOutput`'s whole check, so that the caller's
 * CallGuard sees every bad output and poisons the instance). The caller gets
 * a buffer of its own, never a view of guest memory.
 */
import { PackedBatch } from '../records/packed-batch.js';
import { WeirError } from '../errors/errors.js';

/**
 * Returns `output` checked, copied out of guest memory when `isGuestMemory`
 * says its buffer is one (jco already copies a lifted `list<u8>` out, so
 * usually no second copy is made).
 *
 * @throws WeirError `WEIR_PLUGIN_BAD_OUTPUT` when `output` is not bytes or not a well-formed packed batch.
 * @throws WeirError `WEIR_LIMIT_OUTPUT` when it is larger than `maxOutputBytes`, or would decode into more.
 */
export function checkedPackedOutput(output: unknown, maxOutputBytes: number, isGuestMemory: (buffer: ArrayBufferLike) => boolean): Uint8Array {
  if (!(output instanceof Uint8Array)) {
    throw new WeirError('WEIR_PLUGIN_BAD_OUTPUT', `returned ${describe(output)} where a packed batch (list<u8>) was expected`);
  }
  if (output.byteLength > maxOutputBytes) {
    throw new WeirError('WEIR_LIMIT_OUTPUT', `returned ${output.byteLength} bytes, above limits.maxOutputBytes (${maxOutputBytes})`, { limit: 'output', bytes: output.byteLength });
  }
  const own = isGuestMemory(output.buffer) ? output.slice() : output;
  PackedBatch.fromPluginOutput(own, maxOutputBytes);
  return own;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return `a ${(value as object).constructor?.name ?? 'object'}`;
}
