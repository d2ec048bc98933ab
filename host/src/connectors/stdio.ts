/** The `stdin` source and `stdout` sink. */
import type { SinkSpec, SourceSpec } from './connector.js';
import { LineSink, LineSource, formatSchema, maxLineBytesSchema } from './line-streams.js';
import type { LineFormat } from './jsonl.js';
import { decodePosition } from './positions.js';

/**
 * Reads records from standard input until it closes. Its position is the
 * number of lines taken; resuming from one drops that many lines first.
 */
export const stdinSource: SourceSpec = {
  kind: 'source',
  name: 'stdin',
  description: 'reads records from standard input, one per line',
  configSchema: { type: 'object', additionalProperties: false, properties: { format: formatSchema, maxLineBytes: maxLineBytesSchema } },
  create: (config, ctx) =>
    new LineSource(ctx.stdin, {
      format: (config.format ?? 'jsonl') as LineFormat,
      name: 'stdin',
      maxLineBytes: config.maxLineBytes as number | undefined,
      // Resuming: the lines the checkpoint had taken are read again and dropped (exactly once only if the same input is piped again).
      skipLines: ctx.resumeFrom ? decodePosition(ctx.resumeFrom, { lines: 'count' }, `stdin source${ctx.node ? ` "${ctx.node}"` : ''}`, ctx.node).lines : 0,
      logger: ctx.logger,
      node: ctx.node,
    }),
};

/** Writes records to standard output; `preCommit` flushes (what was written cannot be taken back). */
export const stdoutSink: SinkSpec = {
  kind: 'sink',
  name: 'stdout',
  description: 'writes records to standard output, one per line',
  configSchema: { type: 'object', additionalProperties: false, properties: { format: formatSchema } },
  create: (config, ctx) => new LineSink(ctx.stdout, (config.format ?? 'jsonl') as LineFormat, 'stdout', false),
};
