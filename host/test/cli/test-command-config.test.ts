// `host test --config`: a config nested deeper than a pipeline file may be is
// refused up front (naming the pointer), as pipeline.json and --window are.
import { describe, expect, it } from 'vitest';
import { PassThrough, Readable } from 'node:stream';
import { testCommand } from '../../src/cli/test.js';
import type { CliIo } from '../../src/cli/cli-io.js';

const io = (): CliIo => ({ stdin: Readable.from([]), stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: process.cwd(), onSignal: () => () => {} });

describe('host test --config', () => {
  it('refuses a config nested more than 64 levels deep with WEIR_USAGE and the pointer, before loading the plugin', async () => {
    const deep = `{"a":${'['.repeat(64)}${']'.repeat(64)}}`;
    await expect(testCommand(['missing.wasm', '--config', deep], io())).rejects.toMatchObject({
      code: 'WEIR_USAGE',
      message: expect.stringContaining(`--config: /a${'/0'.repeat(63)} is nested more than 64 levels deep`),
    });
  });
});
