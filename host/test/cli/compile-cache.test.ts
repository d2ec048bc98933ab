// `host` keeps V8's compiled code of its modules in the cache folder of the commands that have one (cli/compile-cache.ts).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCacheDir } from '../../src/cli/compile-cache.js';

const hostBin = join(import.meta.dirname, '../../bin/host.js');

/** The environment of a `host` child without compile-cache settings of its own. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (!('NODE_COMPILE_CACHE' in extra)) delete env.NODE_COMPILE_CACHE;
  if (!('NODE_DISABLE_COMPILE_CACHE' in extra)) delete env.NODE_DISABLE_COMPILE_CACHE;
  return env;
}

/** A pipeline of three generated records into the null sink, in a new folder. */
function pipelineDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-compile-cache-'));
  const nodes = [
    { id: 'gen', kind: 'source', connector: 'generator', config: { count: 3 } },
    { id: 'out', kind: 'sink', connector: 'null', inputs: ['gen'] },
  ];
  writeFileSync(join(dir, 'pipeline.json'), JSON.stringify({ name: 'cc', nodes }));
  return dir;
}

describe('compileCacheDir', () => {
  const env = { WEIR_CACHE_DIR: '/var/cache/weir' };

  it('is node-compile-cache/ in the cache folder of run, validate, test and inspect: --cache-dir, else the default', () => {
    expect(compileCacheDir(['run', 'p.json'], env, '/work')).toBe('/var/cache/weir/node-compile-cache');
    expect(compileCacheDir(['run', '--cache-dir', 'c', 'p.json'], env, '/work')).toBe('/work/c/node-compile-cache');
    expect(compileCacheDir(['validate', '--cache-dir=/tmp/c', 'p.json'], env, '/work')).toBe('/tmp/c/node-compile-cache');
    expect(compileCacheDir(['test', 'x.wasm', '--input', 'in.jsonl'], {}, '/work')).toMatch(/\/weir\/node-compile-cache$/);
    expect(compileCacheDir(['inspect', 'x.wasm'], env, '/work')).toBe('/var/cache/weir/node-compile-cache');
    // After `--` nothing is an option.
    expect(compileCacheDir(['run', '--', '--cache-dir', 'c'], env, '/work')).toBe('/var/cache/weir/node-compile-cache');
  });

  it('is none for the commands that keep no cache folder, and for help', () => {
    for (const argv of [['checkpoints', 'p.json'], ['new', 'processor', 'x', '--lang', 'js'], ['build', 'dir'], ['--help'], ['--version'], []]) {
      expect(compileCacheDir(argv, env, '/work'), argv.join(' ')).toBeUndefined();
    }
  });
});

describe('host run and the compile cache', () => {
  it('fills node-compile-cache/ in --cache-dir, and a run from it gives the same output', () => {
    const dir = pipelineDir();
    const cache = join(dir, 'cache');
    const run = () => spawnSync(process.execPath, [hostBin, 'run', '--no-watch', '--cache-dir', cache, 'pipeline.json'], { cwd: dir, encoding: 'utf8', env: cleanEnv() });
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    expect(readdirSync(join(cache, 'node-compile-cache')).length).toBeGreaterThan(0);
    const second = run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toContain('pipeline "cc" completed');
    expect(second.stderr).toContain('3 read, 3 written, 0 errors');
  });

  it('writes none under NODE_DISABLE_COMPILE_CACHE', () => {
    const dir = pipelineDir();
    const cache = join(dir, 'cache');
    const run = spawnSync(process.execPath, [hostBin, 'run', '--no-watch', '--cache-dir', cache, 'pipeline.json'], { cwd: dir, encoding: 'utf8', env: cleanEnv({ NODE_DISABLE_COMPILE_CACHE: '1' }) });
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(join(cache, 'node-compile-cache'))).toBe(false);
  });
});
