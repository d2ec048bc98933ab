// What `host run` loads to run a plain pipeline: none of the modules a start-up paid for without using them
// (Node's fetch, node:http, Ajv, the checkpoint store, the plugin build toolchains, the sample self-test).
// A regression here costs every run tens of milliseconds; the benchmark (bench/startup.js) shows by how much.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '../../..');
const hostBin = join(repo, 'host/bin/host.js');

/** A preload that writes every module the process loaded (builtins as `node:NAME`, files as URLs) to `file` at exit. */
function recorder(file: string): string {
  return `
    import { registerHooks } from 'node:module';
    import { writeFileSync } from 'node:fs';
    const urls = [];
    registerHooks({ load(url, context, next) { urls.push(url); return next(url, context); } });
    process.on('exit', () => {
      const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => 'node:' + m.slice('NativeModule '.length));
      writeFileSync(${JSON.stringify(file)}, JSON.stringify([...builtins, ...urls]));
    });
  `;
}

describe('host run start-up', () => {
  it('runs an AssemblyScript and a Rust plugin, file to file, without loading what such a run does not use', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-startup-modules-'));
    writeFileSync(join(dir, 'in.jsonl'), '{"key":"a","value":"x"}\n');
    writeFileSync(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'startup-modules',
      plugins: { dir: join(repo, 'plugins') },
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
        { id: 'as', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['in'] },
        { id: 'rust', kind: 'processor', plugin: 'uppercase-rust.wasm', inputs: ['as'] },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['rust'], config: { path: 'out.jsonl' } },
      ],
    }));
    const hook = join(dir, 'record-modules.mjs');
    const loadedFile = join(dir, 'loaded.json');
    writeFileSync(hook, recorder(loadedFile));
    const run = spawnSync(process.execPath, ['--import', hook, hostBin, 'run', 'pipeline.json', '--cache-dir', join(dir, 'cache')], { cwd: dir, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out.jsonl'), 'utf8')).toBe('{"key":"a","value":"X"}\n');

    const loaded = JSON.parse(readFileSync(loadedFile, 'utf8')) as string[];
    // The recorder works: the run's own modules are in the list.
    expect(loaded).toContain('node:worker_threads');
    expect(loaded.some((url) => url.endsWith('/dist/cli/run.js'))).toBe(true);
    const unused: Array<[string, (url: string) => boolean]> = [
      ["Node's fetch (undici)", (url) => url === 'node:internal/deps/undici/undici'],
      ['node:http', (url) => url === 'node:http' || url === 'node:https'],
      ['Ajv (the schema validators are precompiled)', (url) => /\/node_modules\/ajv\/dist\/(ajv|core|compile\/)/.test(url)],
      ['the checkpoint store', (url) => url === 'node:sqlite' || url.includes('/dist/checkpoint/sqlite-store.js')],
      ['the plugin build toolchains', (url) => url.includes('/dist/build/') || url.includes('/node_modules/@bytecodealliance/componentize-js/') || url.includes('/node_modules/assemblyscript/')],
      ['the sample self-test', (url) => url.includes('/dist/testing/')],
    ];
    expect(unused.filter(([, matches]) => loaded.some(matches)).map(([name]) => name)).toEqual([]);
  });
});
