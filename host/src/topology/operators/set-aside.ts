/**
 * What happens to records that failed for good under `onError: skip` or
 * `dead-letter`: they are counted, logged, and under the latter sent to the
 * dead-letter sink with the error as `weir-error-*` headers.
 */
import type { Logger } from 'pino';
import type { NodeConfig } from '../../config/pipeline-config.js';
import { messageOf } from '../../errors/errors.js';
import type { StreamRecord } from '../../records/record.js';
import type { BatchChannel } from '../batch-channel.js';
import type { NodeStats } from '../run-summary.js';

const encoder = new TextEncoder();

/** Counts `batch` as failed, then skips it (`as: 'skip'`) or pushes it to `deadLetter`. */
export async function setAside(as: 'skip' | 'dead-letter', node: NodeConfig, batch: StreamRecord[], error: unknown, { stats, logger, deadLetter }: { stats: NodeStats; logger: Logger; deadLetter: BatchChannel | undefined }): Promise<void> {
  stats.errors += batch.length;
  if (as === 'skip') {
    stats.skipped += batch.length;
    logger.warn({ node: node.id, records: batch.length, err: messageOf(error) }, 'records failed; skipped');
  } else {
    stats.deadLettered += batch.length;
    logger.warn({ node: node.id, records: batch.length, err: messageOf(error) }, 'records failed; dead-lettered');
    await deadLetter!.push(batch.map((r) => withErrorHeaders(r, error, node)));
  }
}

/** `record` with the host's `weir-error-*` headers for `error` at `node`. */
export function withErrorHeaders(record: StreamRecord, error: unknown, node: NodeConfig): StreamRecord {
  const code = (error as { code?: string }).code ?? 'WEIR_PLUGIN_ERROR';
  const plugin = node.implementation.type === 'plugin' ? node.implementation.file : '';
  return {
    ...record,
    headers: [
      // What a plugin upstream wrote under these names is not the host's word: only the host's stay.
      ...record.headers.filter((h) => !h.name.startsWith('weir-error-')),
      { name: 'weir-error-code', value: encoder.encode(code) },
      { name: 'weir-error-message', value: encoder.encode(messageOf(error)) },
      { name: 'weir-error-node', value: encoder.encode(node.id) },
      { name: 'weir-error-plugin', value: encoder.encode(plugin) },
    ],
  };
}
