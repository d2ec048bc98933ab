// End-to-end: `host new`, `host build` and `host test` as a plugin author runs them,
// the real command as a subprocess, in a folder outside the repository.
//
// The cases are independent (each its own folder) and spend their time in
// child processes (toolchains), so they run two at a time (maxConcurrency in
// vitest.config.ts): with files run one at a time on two cores, the second
// core would otherwise sit idle. Each case gets its time limit only once it runs.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');
const cacheDir = mkdtempSync(join(tmpdir(), 'weir-cache-'));

/** Runs `host ARGS` in `cwd`; resolves with its exit code and output once it has exited. */
function host(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [join(root, 'host/bin/host.js'), ...args], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, WEIR_CACHE_DIR: cacheDir },
      maxBuffer: 64 << 20,
    }, (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }));
  });
}

const CASES = [
  { kind: 'processor', lang: 'js' },
  { kind: 'processor', lang: 'as' },
  { kind: 'source', lang: 'js' },
  { kind: 'sink', lang: 'js' },
  { kind: 'service', lang: 'js' },
  { kind: 'aggregator', lang: 'js' },
  { kind: 'aggregator', lang: 'as' },
  // Rust needs rustc with the wasm32 standard library: .ci/run installs Debian's.
  { kind: 'processor', lang: 'rust' },
  { kind: 'service', lang: 'rust' },
  { kind: 'aggregator', lang: 'rust' },
] as const;

// Each case builds with a real toolchain (a QuickJS or SpiderMonkey build takes seconds on an
// idle machine, several times that beside CPU hogs): a budget for a build, not for a result.
describe.concurrent('host new -> host build -> host test', { timeout: 300_000 }, () => {
  it.each(CASES)('works for a $lang $kind, and the test fails with a diff when the output is wrong', async ({ kind, lang }) => {
    const work = mkdtempSync(join(tmpdir(), 'weir-author-'));
    const name = `my-${kind}`;
    const created = await host(['new', kind, name, '--lang', lang], work);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain(`created ${name}/`);

    const built = await host(['build', name], work);
    expect(built.stderr).toBe('');
    expect(built.code).toBe(0);
    expect(existsSync(join(work, `${name}.wasm`))).toBe(true);

    const method = kind === 'service' ? ['--method', 'upper'] : [];
    const sample = ['--input', `${name}/sample/input.jsonl`, '--expect', `${name}/sample/expected.jsonl`, ...method];
    const passed = await host(['test', `${name}.wasm`, '--kind', kind, ...sample], work);
    expect(passed.stdout).toMatch(/^ok: \d+ records match/);
    expect(passed.code).toBe(0);

    if (kind === 'sink') {
      // A sink emits nothing, so `ok: 0 records match` proves little: what it was given shows in its
      // logs (the template logs each value), and a sink that cannot write must fail the test.
      const values = readFileSync(join(work, name, 'sample/input.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { value: string }).value);
      expect(values.length).toBeGreaterThan(0);
      for (const value of values) expect(passed.stderr).toContain(`plugin info: ${name} got ${value}\n`);
      const source = readFileSync(join(work, name, 'index.js'), 'utf8');
      expect(source).toContain("counterAdd('written', batch.length);");
      writeFileSync(join(work, name, 'index.js'), source.replace("counterAdd('written', batch.length);", "throw new Error('disk on fire');"));
      // `host test FOLDER` builds the edited source first.
      const broken = await host(['test', name, ...sample], work);
      expect(broken.code).toBe(2);
      expect(broken.stdout).not.toContain('ok:');
      expect(broken.stderr).toMatch(new RegExp(`^error WEIR_[A-Z_]+: .*${name}\\.wasm.* write`, 'm'));
      return;
    }
    writeFileSync(join(work, name, 'sample/expected.jsonl'), '{"value":"something else"}\n');
    // The .wasm just built: `host test FOLDER` would build it again (that form is covered by the sink case and below).
    const failed = await host(['test', `${name}.wasm`, '--kind', kind, ...sample], work);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('FAIL:');
    expect(failed.stdout).toContain('line 1:\n  - expected {"value":"something else"}\n  + actual   {');
  });

  it('prints the output as JSONL without --expect, and plugin logs on standard error', async () => {
    const work = mkdtempSync(join(tmpdir(), 'weir-author-'));
    expect((await host(['new', 'processor', 'shout', '--lang', 'js'], work)).code).toBe(0);
    const run = await host(['test', 'shout', '--input', 'shout/sample/input.jsonl'], work);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(readFileSync(join(work, 'shout/sample/expected.jsonl'), 'utf8').trim().split('\n'));
    expect(run.stderr).toContain('plugin info: shout configured');
  });

  it('puts new plugins in ./plugins when there is one, and builds them next to their folder', async () => {
    const work = mkdtempSync(join(tmpdir(), 'weir-author-'));
    mkdirSync(join(work, 'plugins'));
    expect((await host(['new', 'processor', 'tidy', '--lang', 'as'], work)).stdout).toContain('created plugins/tidy/');
    expect((await host(['build', 'plugins/tidy'], work)).stdout).toContain('built plugins/tidy.wasm');
  });

  it('builds a JavaScript plugin with SpiderMonkey (componentize-js) when plugin.json asks for it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'weir-author-'));
    mkdirSync(join(work, 'sm'));
    writeFileSync(join(work, 'sm/plugin.json'), JSON.stringify({ name: 'sm', kind: 'processor', lang: 'js', entry: 'index.js', jsEngine: 'spidermonkey' }));
    writeFileSync(join(work, 'sm/index.js'), [
      'export function configure(config) {}',
      'export function process(batch) {',
      '  return batch.map((r) => ({ ...r, value: new TextEncoder().encode(new TextDecoder().decode(r.value).toUpperCase()) }));',
      '}',
    ].join('\n'));
    writeFileSync(join(work, 'in.jsonl'), '{"value":"héllo"}\n');
    writeFileSync(join(work, 'expected.jsonl'), '{"value":"HÉLLO"}\n');
    const built = await host(['build', 'sm'], work);
    expect(built.stderr).toBe('');
    expect(built.stdout).toMatch(/built sm\.wasm \(processor, js, \d{4,} KiB/);
    expect((await host(['test', 'sm.wasm', '--input', 'in.jsonl', '--expect', 'expected.jsonl'], work)).stdout).toContain('ok: 1 records match');
  });

  it('refuses what it cannot do, saying why', async () => {
    const work = mkdtempSync(join(tmpdir(), 'weir-author-'));
    const source = await host(['new', 'source', 'x', '--lang', 'as'], work);
    expect(source.code).toBe(3);
    expect(source.stderr).toContain('as plugins can be processor or aggregator here (for a source, use --lang js)');
    expect((await host(['new', 'processor', 'Bad_Name', '--lang', 'js'], work)).stderr).toContain('must be lowercase letters');
    expect((await host(['new', 'processor', 'x'], work)).stderr).toContain('--lang is required');
    expect((await host(['new', 'processor', 'x', '--lang', 'js'], work)).code).toBe(0);
    expect((await host(['new', 'processor', 'x', '--lang', 'js'], work)).stderr).toContain('already exists');
    const missing = await host(['build', 'nowhere'], work);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('plugin.json');
  });
});

describe('building Rust plugins', () => {
  it('says exactly what to install when no rustc can build for wasm32', async () => {
    const { findRustc } = await import('../../src/build/rust-build.js');
    await expect(findRustc({}, ['/nonexistent/rustc'])).rejects.toThrow(
      /tried \/nonexistent\/rustc \(not found\); install a Rust compiler with the wasm32 standard library: on Debian\/Ubuntu `apt-get install -y rustc libstd-rust-dev-wasm32`/,
    );
  });
});
