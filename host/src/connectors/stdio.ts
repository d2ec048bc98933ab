/** The `stdin` source and `stdout` sink. */
import type { SinkSpec, SourceSpec } from './connector.js';
import { LineSink, LineSource, formatSchema, maxLineBytesSchema } from './line-streams.js';
import type { LineFormat } from './jsonl.js';

/** Reads records from standard input until it closes. */
export const stdinSource: SourceSpec = {
  kind: 'source',
  name: 'stdin',
  description: 'reads records from standard input, one per line',
  configSchema: { type: 'object', additionalProperties: false, properties: { format: formatSchema, maxLineBytes: maxLineBytesSchema } },
  create: (config, ctx) =>
    new LineSource(ctx.stdin, { format: (config.format ?? 'jsonl') as LineFormat, name: 'stdin', maxLineBytes: config.maxLineBytes as number | undefined }),
};

/** Writes records to standard output. */
export const stdoutSink: SinkSpec = {
  kind: 'sink',
  name: 'stdout',
  description: 'writes records to standard output, one per line',
  configSchema: { type: 'object', additionalProperties: false, properties: { format: formatSchema } },
  create: (config, ctx) => new LineSink(ctx.stdout, (config.format ?? 'jsonl') as LineFormat, 'stdout', false),
};
