/** The `file` source and sink: JSONL or plain lines, paths relative to the pipeline file. */
import { resolve } from 'node:path';
import type { SinkSpec, SourceSpec } from './connector.js';
import { formatSchema, maxLineBytesSchema } from './line-streams.js';
import { FileSource } from './file-source.js';
import { FileSink, makeParentFolders } from './file-sink.js';
import type { LineFormat } from './jsonl.js';

/** The config schema of the file connectors: a path, a line format and (sources) the longest line. */
function fileConfigSchema(pathDescription: string, extra: Record<string, unknown> = {}) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: { path: { type: 'string', minLength: 1, description: pathDescription }, format: formatSchema, ...extra },
  };
}

/** Reads records from a file; resumes at a byte offset, checking the file is the same (file-source.ts). */
export const fileSource: SourceSpec = {
  kind: 'source',
  name: 'file',
  description: 'reads records from a file, one per line',
  configSchema: fileConfigSchema('file to read, relative to the pipeline file', { maxLineBytes: maxLineBytesSchema }),
  create(config, ctx) {
    const path = resolve(ctx.baseDir, config.path as string);
    return new FileSource({
      path,
      format: (config.format ?? 'jsonl') as LineFormat,
      maxLineBytes: config.maxLineBytes as number | undefined,
      node: ctx.node,
      resumeFrom: ctx.resumeFrom,
    });
  },
};

/** Writes records to a file, replacing it (continuing it when a checkpoint is restored: file-sink.ts); parent folders are created. */
export const fileSink: SinkSpec = {
  kind: 'sink',
  name: 'file',
  description: 'writes records to a file, one per line (replaced at the start; a run resuming from a checkpoint keeps it and appends, after cutting it to its committed length under exactly-once)',
  configSchema: fileConfigSchema('file to write, relative to the pipeline file'),
  create(config, ctx) {
    const path = resolve(ctx.baseDir, config.path as string);
    makeParentFolders(path, ctx.node);
    return new FileSink({ path, format: (config.format ?? 'jsonl') as LineFormat, node: ctx.node, logger: ctx.logger, resumeFrom: ctx.resumeFrom, delivery: ctx.delivery });
  },
};
