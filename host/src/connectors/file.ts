/** The `file` source and sink: JSONL or plain lines, paths relative to the pipeline file. */
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SinkSpec, SourceSpec } from './connector.js';
import { LineSink, LineSource } from './line-streams.js';
import type { LineFormat } from './jsonl.js';

const formatSchema = { enum: ['jsonl', 'lines'], default: 'jsonl', description: 'jsonl: one JSON record per line; lines: each line is a value' };

/** The config schema of both file connectors: a path and a line format. */
function fileConfigSchema(pathDescription: string) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: { path: { type: 'string', minLength: 1, description: pathDescription }, format: formatSchema },
  };
}

/** Reads records from a file. */
export const fileSource: SourceSpec = {
  kind: 'source',
  name: 'file',
  description: 'reads records from a file, one per line',
  configSchema: fileConfigSchema('file to read, relative to the pipeline file'),
  create(config, ctx) {
    const path = resolve(ctx.baseDir, config.path as string);
    return new LineSource(createReadStream(path, { highWaterMark: 1 << 16 }), (config.format ?? 'jsonl') as LineFormat, path);
  },
};

/** Writes records to a file, replacing it; parent folders are created. */
export const fileSink: SinkSpec = {
  kind: 'sink',
  name: 'file',
  description: 'writes records to a file, one per line (the file is replaced)',
  configSchema: fileConfigSchema('file to write, relative to the pipeline file'),
  create(config, ctx) {
    const path = resolve(ctx.baseDir, config.path as string);
    mkdirSync(dirname(path), { recursive: true });
    return new LineSink(createWriteStream(path), (config.format ?? 'jsonl') as LineFormat, path, true);
  },
};
