/**
 * How the built-in connectors encode what a checkpoint keeps for them (source
 * positions, sink tokens): a small JSON object in UTF-8 with a version field,
 * `{"v":1,...}`, so a later version can read (or clearly refuse) an old one.
 */
import { WeirError } from '../errors/errors.js';

/** The version the built-in connectors write. */
export const POSITION_VERSION = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes `fields` (numbers and strings) as `{"v":1,...fields}`. */
export function encodePosition(fields: Record<string, number | string>): Uint8Array {
  return encoder.encode(JSON.stringify({ v: POSITION_VERSION, ...fields }));
}

/** What a stored position should hold: each field's type; numbers are non-negative safe integers. */
export type PositionShape = Record<string, 'count' | 'string'>;

/**
 * Decodes what {@link encodePosition} wrote, checking the version and every
 * field of `shape`; undefined when the bytes are not such an object.
 */
export function decodeVersioned<S extends PositionShape>(bytes: Uint8Array, shape: S): Decoded<S> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  const o = parsed as Record<string, unknown>;
  const fits =
    typeof o === 'object' && o !== null && o.v === POSITION_VERSION &&
    Object.entries(shape).every(([field, type]) => (type === 'count' ? Number.isSafeInteger(o[field]) && (o[field] as number) >= 0 : typeof o[field] === 'string'));
  return fits ? (o as Decoded<S>) : undefined;
}

/** The fields of a decoded position. */
export type Decoded<S extends PositionShape> = { [K in keyof S]: S[K] extends 'count' ? number : string };

/**
 * A source position, decoded with {@link decodeVersioned}.
 *
 * @param what - the connector and node, for the message (`file source "in"`).
 * @throws WeirError `WEIR_CHECKPOINT_MISMATCH` when the bytes are not such a position (the checkpoint was not taken by this source).
 */
export function decodePosition<S extends PositionShape>(bytes: Uint8Array, shape: S, what: string, node?: string): Decoded<S> {
  const decoded = decodeVersioned(bytes, shape);
  if (decoded) return decoded;
  throw new WeirError(
    'WEIR_CHECKPOINT_MISMATCH',
    `${what}: the checkpoint holds a position this source cannot read (${describeBytes(bytes)}; expected version ${POSITION_VERSION} with ${Object.keys(shape).join(', ')}); start over with \`host run --fresh\``,
    node ? { node } : {},
  );
}

/** The start of `bytes` as quoted text, for messages. */
export function describeBytes(bytes: Uint8Array): string {
  return JSON.stringify(Buffer.from(bytes.subarray(0, 200)).toString('utf8'));
}
