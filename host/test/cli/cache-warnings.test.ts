/**
 * A transpile cache that cannot be written (WEIR_CACHE_DIR under a file, so
 * not even root can create it): `host validate`, `host inspect` and
 * `host test` still succeed, and say so once on their standard error (they
 * have no logger; the warning went to process warnings, outside the command).
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../../src/cli/cli-io.js';
import { validateCommand } from '../../src/cli/validate.js';
import { inspectCommand } from '../../src/cli/inspect.js';
import { testCommand } from '../../src/cli/test.js';
import { stderrCacheWarning } from '../../src/cli/cache-warnings.js';

const plugins = join(import.meta.dirname, '../../../plugins');

/** A folder whose cache path runs through a file, and what a command wrote. */
async function blockedCache() {
  const dir = await mkdtemp(join(tmpdir(), 'weir-cache-warnings-'));
  await writeFile(join(dir, 'blocker'), 'a file, not a folder');
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const text = { stdout: '', stderr: '' };
  stdout.on('data', (chunk: Buffer) => (text.stdout += chunk.toString('utf8')));
  stderr.on('data', (chunk: Buffer) => (text.stderr += chunk.toString('utf8')));
  const io: CliIo = { stdin: Readable.from([]), stdout, stderr, env: { WEIR_CACHE_DIR: join(dir, 'blocker', 'cache') }, cwd: dir, onSignal: () => () => {} };
  return { dir, io, text };
}

/** The warning lines written to standard error. */
const warnings = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('warning: '));

describe('a cache write that fails, in commands without a logger', () => {
  it('host validate succeeds and prints the warning once on standard error (two nodes load the same component)', async () => {
    const { dir, io, text } = await blockedCache();
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'cache-warnings',
      plugins: { dir: plugins },
      nodes: [
        { id: 'in', kind: 'source', connector: 'generator', config: { count: 1 } },
        { id: 'one', kind: 'processor', plugin: 'uppercase-js.wasm', inputs: ['in'] },
        { id: 'two', kind: 'processor', plugin: 'uppercase-js.wasm', inputs: ['one'] },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['two'] },
      ],
    }));
    expect(await validateCommand(['pipeline.json', '--json'], io)).toBe(0);
    // The JSON on standard output stays clean.
    expect(JSON.parse(text.stdout)).toMatchObject({ ok: true });
    expect(warnings(text.stderr)).toEqual([expect.stringMatching(/^warning: transpile cache: cannot write an entry; running from memory instead: .*blocker.*ENOTDIR/)]);
  }, 120_000);

  it('host inspect succeeds and prints the warning once on standard error', async () => {
    const { io, text } = await blockedCache();
    expect(await inspectCommand([join(plugins, 'uppercase-js.wasm')], io)).toBe(0);
    expect(text.stdout).toContain('fits:    processor');
    expect(warnings(text.stderr)).toEqual([expect.stringMatching(/^warning: transpile cache: cannot write an entry.*ENOTDIR/)]);
  }, 120_000);

  it('host test succeeds and prints the warning once on standard error', async () => {
    const { dir, io, text } = await blockedCache();
    await writeFile(join(dir, 'in.jsonl'), '{"value":"hello"}\n');
    expect(await testCommand([join(plugins, 'uppercase-js.wasm'), '--input', 'in.jsonl'], io)).toBe(0);
    expect(text.stdout).toContain('HELLO');
    expect(warnings(text.stderr)).toEqual([expect.stringMatching(/^warning: transpile cache: cannot write an entry.*ENOTDIR/)]);
  }, 120_000);

  it('says each kind of failure once: a cache that cannot be written fails the same way for every entry', () => {
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    const warn = stderrCacheWarning(stderr);
    warn({ path: '/c/a', cause: 'ENOSPC' }, 'transpile cache: cannot write an entry; running from memory instead');
    warn({ path: '/c/b', cause: 'ENOSPC' }, 'transpile cache: cannot write an entry; running from memory instead');
    warn({ path: '/c/m', cause: 'ENOSPC' }, 'cache: cannot keep a sandboxed module on disk; it is instrumented again next time');
    expect(text.split('\n').filter(Boolean)).toEqual([
      'warning: transpile cache: cannot write an entry; running from memory instead: /c/a: ENOSPC',
      'warning: cache: cannot keep a sandboxed module on disk; it is instrumented again next time: /c/m: ENOSPC',
    ]);
  });
});
