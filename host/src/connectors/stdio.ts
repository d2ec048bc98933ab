/** The `stdin` source and `stdout` sink. */
import type { SinkSpec, SourceSpec } from './connector.js';
import { LineSink, LineSource } from './line-streams.js';
import type { LineFormat } from './jsonl.js';

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { format: { enum: ['jsonl', 'lines'], default: 'jsonl' } },
};

/** Reads records from standard input until it closes. */
export const stdinSource: SourceSpec = {
  kind: 'source',
  name: 'stdin',
  description: 'reads records from standard input, one per line',
  configSchema,
  create: (config, ctx) => new LineSource(ctx.stdin, (config.format ?? 'jsonl') as LineFormat, 'stdin'),
};

/** Writes records to standard output. */
export const stdoutSink: SinkSpec = {
  kind: 'sink',
  name: 'stdout',
  description: 'writes records to standard output, one per line',
  configSchema,
  create: (config, ctx) => new LineSink(ctx.stdout, (config.format ?? 'jsonl') as LineFormat, 'stdout', false),
};
