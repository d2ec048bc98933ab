/**
 * The unit of data that flows through a pipeline.
 *
 * The shape matches what jco produces and consumes for the WIT type
 * `weir:plugin/types.record`, so records cross into and out of components
 * without being copied into another JS shape.
 */
export interface StreamRecord {
  /** Partitioning key; `undefined` when the record has none. */
  key: Uint8Array | undefined;
  /** Payload bytes. */
  value: Uint8Array;
  /** Ordered name/value pairs; names may repeat. */
  headers: Header[];
  /** Event time in milliseconds since the Unix epoch; `undefined` when unknown. */
  eventTime: bigint | undefined;
}

/** One record header. */
export interface Header {
  name: string;
  value: Uint8Array;
}

const utf8Encoder = new TextEncoder();

/**
 * Builds a record from text, mostly for tests and built-in sources.
 *
 * @example
 * const r = textRecord('hello', { key: 'k1' });
 */
export function textRecord(
  value: string,
  options: { key?: string; headers?: Array<[string, string]>; eventTime?: bigint } = {},
): StreamRecord {
  return {
    key: options.key === undefined ? undefined : utf8Encoder.encode(options.key),
    value: utf8Encoder.encode(value),
    headers: (options.headers ?? []).map(([name, v]) => ({ name, value: utf8Encoder.encode(v) })),
    eventTime: options.eventTime,
  };
}

/** Payload bytes of one record (key + value + headers). */
export function recordBytes(record: StreamRecord): number {
  let total = record.value.byteLength + (record.key?.byteLength ?? 0);
  for (const h of record.headers) total += Buffer.byteLength(h.name, 'utf8') + h.value.byteLength;
  return total;
}

/** Total payload bytes of a batch (key + value + headers), used for limits and metrics. */
export function batchBytes(batch: readonly StreamRecord[]): number {
  let total = 0;
  for (const r of batch) total += recordBytes(r);
  return total;
}
