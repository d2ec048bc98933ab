/**
 * Filesystem grants: the same plugin in three languages (AssemblyScript
 * through the SDK's fs module on WASI preview 1; JavaScript and Rust
 * components through `weir:plugin/files`) reads a read-only grant, writes a
 * read-write one, and is kept inside both: `..`, links leading out and paths
 * outside every grant fail with notcapable (76) whatever the grant's mode,
 * writes inside a read-only grant with rofs (69), writes past a read-write
 * grant's maxBytes with dquot (19): the same errno in every language, so in
 * both file interfaces. Runs through `host run`'s path (validation, grants,
 * loader), in both CPU modes, since a worker-mode instance lives in another
 * thread.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { runValues } from '../fixtures/run-values.js';
import { runPlugin } from '../../src/testing/plugin-harness.js';
import { ENTRY_BYTES, QUOTA_REFUSALS_COUNTER } from '../../src/linker/directory-quota.js';

const LANGS = ['as', 'js', 'rust'] as const;
type Lang = (typeof LANGS)[number];

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  fixtures = await buildFixtures(...LANGS.map((lang) => `files-${lang}`));
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

/** A folder with lookup/ (granted read-only), spool/ (granted read-write as /out), quota/ (empty) and secret/ (not granted). */
async function folders(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-files-'));
  await mkdir(join(dir, 'lookup', 'sub'), { recursive: true });
  await mkdir(join(dir, 'spool'));
  await mkdir(join(dir, 'quota'));
  await mkdir(join(dir, 'secret'));
  await writeFile(join(dir, 'lookup', 'table.txt'), 'alpha');
  await writeFile(join(dir, 'lookup', 'sub', 'x.txt'), 'deep');
  await writeFile(join(dir, 'lookup', 'big.txt'), 'b'.repeat(200_000));
  await writeFile(join(dir, 'secret', 's.txt'), 'secret');
  await symlink(join(dir, 'lookup', 'table.txt'), join(dir, 'lookup', 'inner-link'));
  await symlink(join(dir, 'secret'), join(dir, 'lookup', 'link-out'));
  // A chain of links whose last hop dangles outside: a write through it would create secret/created.txt.
  await symlink('chain2', join(dir, 'spool', 'chain1'));
  await symlink(join(dir, 'secret', 'created.txt'), join(dir, 'spool', 'chain2'));
  return dir;
}

async function runCommands(dir: string, commands: string[], node: object, lang: Lang = 'as') {
  const { problems, summary } = await runValues(dir, commands, {
    name: 'files',
    plugins: { dir: fixtures },
    nodes: [
      { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 1 } },
      { id: 'files', kind: 'processor', plugin: `files-${lang}.wasm`, inputs: ['in'], ...node },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['files'], config: { path: 'out.jsonl' } },
    ],
  }, cacheDir);
  if (!summary) return { problems, results: [] };
  expect(summary.status).toBe('completed');
  const results = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((line) => (JSON.parse(line) as { value: string }).value);
  return { problems: [], results };
}

const grants = { filesystem: [{ dir: 'lookup', mode: 'ro' }, { dir: 'spool', as: '/out', mode: 'rw' }] };

describe.each(LANGS.flatMap((lang) => (['fuel', 'worker'] as const).map((mode) => [lang, mode] as const)))('filesystem grants (%s, cpu mode %s)', (lang, mode) => {
  it('reads and writes inside the granted directories and nowhere else', async () => {
    const dir = await folders();
    const steps: Array<[string, string]> = [
      ['read /lookup/table.txt', 'ok alpha'],
      ['read /lookup/sub/x.txt', 'ok deep'],
      ['read /lookup/inner-link', 'ok alpha'],
      ['read /lookup/missing.txt', 'errno 44'],
      ['read /lookup/../secret/s.txt', 'errno 76'],
      ['read /lookup/link-out/s.txt', 'errno 76'],
      ['read /secret/s.txt', 'errno 76'],
      ['write /lookup/new.txt hi', 'errno 69'],
      ['remove /lookup/table.txt', 'errno 69'],
      // Leading out of a read-only grant is refused as leading out (76), not as read-only (69), by both interfaces.
      ['write /lookup/../secret/x.txt no', 'errno 76'],
      ['write /lookup/link-out/x.txt no', 'errno 76'],
      ['mkdir /lookup/link-out/d', 'errno 76'],
      ['remove /lookup/../secret/s.txt', 'errno 76'],
      ['append /lookup/link-out/s.txt no', 'errno 76'],
      ['write /out/a.txt hello', 'ok'],
      ['append /out/a.txt -world', 'ok'],
      ['read /out/a.txt', 'ok hello-world'],
      ['write /out/../lookup/table.txt gotcha', 'errno 76'],
      ['write /out/chain1 gotcha', 'errno 76'],
      ['append /out/chain2 gotcha', 'errno 76'],
      ['mkdir /out/d', 'ok'],
      ['write /out/d/e.txt e', 'ok'],
      ['list /out', 'ok a.txt,chain1,chain2,d'],
      ['remove /out/a.txt', 'ok'],
      ['list /out', 'ok chain1,chain2,d'],
      ['list /lookup', 'ok big.txt,inner-link,link-out,sub,table.txt'],
    ];
    const { problems, results } = await runCommands(dir, [...steps.map(([command]) => command), 'read /lookup/big.txt'], { capabilities: grants, limits: { cpu: { mode } } }, lang);
    expect(problems).toEqual([]);
    expect(results.slice(0, steps.length)).toEqual(steps.map(([, result]) => result));
    // A file larger than one read: every byte arrives.
    expect(results.at(-1)).toBe(`ok ${'b'.repeat(200_000)}`);
    // What the plugin wrote is on disk; the read-only grant and the rest are untouched.
    expect(await readFile(join(dir, 'spool', 'd', 'e.txt'), 'utf8')).toBe('e');
    expect(await readFile(join(dir, 'lookup', 'table.txt'), 'utf8')).toBe('alpha');
    await expect(readFile(join(dir, 'lookup', 'new.txt'))).rejects.toThrow(/ENOENT/);
    await expect(readFile(join(dir, 'secret', 'created.txt'))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(dir, 'secret', 's.txt'), 'utf8')).toBe('secret');
  });

  it('keeps a read-write grant within its maxBytes, counting writes, appends, files and directories', async () => {
    const dir = await folders();
    // Room for two entries (files or directories, ENTRY_BYTES each) and 100 bytes of content.
    const quota = { filesystem: [{ dir: 'quota', as: '/out', mode: 'rw', maxBytes: 2 * ENTRY_BYTES + 100 }] };
    const steps: Array<[string, string]> = [
      [`write /out/a.txt ${'a'.repeat(60)}`, 'ok'],
      [`write /out/b.txt ${'b'.repeat(20)}`, 'ok'],
      [`append /out/a.txt ${'c'.repeat(30)}`, 'errno 19'],
      [`append /out/a.txt ${'d'.repeat(20)}`, 'ok'],
      // A directory is not free.
      ['mkdir /out/d', 'errno 19'],
      // Rewriting a file in place counts only what it grows by (here it shrinks); removing one frees its bytes and its entry.
      [`write /out/a.txt ${'e'.repeat(10)}`, 'ok'],
      [`append /out/b.txt ${'f'.repeat(70)}`, 'ok'],
      [`append /out/a.txt ${'g'.repeat(1)}`, 'errno 19'],
      ['remove /out/b.txt', 'ok'],
      ['mkdir /out/d', 'ok'],
      [`append /out/a.txt ${'h'.repeat(80)}`, 'ok'],
      // Nor is an empty file.
      ['write /out/d/c.txt x', 'errno 19'],
    ];
    const { problems, results } = await runCommands(dir, steps.map(([command]) => command), { capabilities: quota, limits: { cpu: { mode } } }, lang);
    expect(problems).toEqual([]);
    expect(results).toEqual(steps.map(([, result]) => result));
    // A refused write is refused whole: nothing of it reached the disk.
    expect(await readFile(join(dir, 'quota', 'a.txt'), 'utf8')).toBe(`${'e'.repeat(10)}${'h'.repeat(80)}`);
  });
});

describe.each(LANGS)('filesystem quota refusals (%s)', (lang) => {
  it('are logged as warnings on the node and counted', async () => {
    const dir = await folders();
    const logs: string[] = [];
    const { output, metrics } = await runPlugin({
      plugin: join(fixtures, `files-${lang}.wasm`),
      kind: 'processor',
      cacheDir,
      capabilities: { env: [], clock: false, random: false, filesystem: [{ dir: join(dir, 'quota'), as: '/out', mode: 'rw', maxBytes: ENTRY_BYTES + 10 }] },
      input: ['write /out/a.txt 12345678', 'append /out/a.txt 123', 'write /out/b.txt 123'].map((command) => ({ key: undefined, value: new TextEncoder().encode(command), headers: [], eventTime: undefined })),
      log: (level, message) => logs.push(`${level} ${message}`),
    });
    expect(output.map((record) => new TextDecoder().decode(record.value))).toEqual(['ok', 'errno 19', 'errno 19']);
    expect(metrics.counters.get(QUOTA_REFUSALS_COUNTER)).toBe(2n);
    expect(logs.filter((line) => line.includes('dquot'))).toEqual([
      expect.stringMatching(/^warn host: write to \/out\/a\.txt refused .*granted as \/out holds 4104 bytes \(each file and directory counts 4096 besides its content\) and the write would add 3, past its "maxBytes" of 4106/),
      // Preview 1 refuses the new file's entry when it is opened; weir:plugin/files the entry and its bytes together.
      expect.stringMatching(new RegExp(`^warn host: write to /out/b\\.txt refused .*holds 4104 bytes .*and the write would add ${lang === 'as' ? 4096 : 4099},`)),
    ]);
  });
});

describe('filesystem grants in pipeline.json', () => {
  it('are refused when the directory is missing or two share a path, each with its pointer', async () => {
    const dir = await folders();
    const { problems } = await runCommands(dir, ['read /lookup/table.txt'], {
      capabilities: { filesystem: [{ dir: 'nope' }, { dir: 'lookup/table.txt' }, { dir: 'lookup', as: '/nope' }, { dir: 'secret', maxBytes: 5 }] },
    });
    expect(problems).toEqual([
      `/nodes/1/capabilities/filesystem/0/dir directory ${join(dir, 'nope')} does not exist`,
      `/nodes/1/capabilities/filesystem/1/dir ${join(dir, 'lookup', 'table.txt')} is not a directory`,
      '/nodes/1/capabilities/filesystem/2/as "/nope" is already the path of grant 0',
      '/nodes/1/capabilities/filesystem/3/maxBytes maxBytes bounds what a plugin writes, and this grant is read-only',
    ]);
  });

  it.each(LANGS)('is needed: without it the plugin (%s) is refused at load, naming the grant', async (lang) => {
    const dir = await folders();
    const { problems } = await runCommands(dir, ['read /lookup/table.txt'], {}, lang);
    expect(problems).toHaveLength(1);
    const imported = lang === 'as' ? '"wasi_snapshot_preview1"\\.".*", which need' : '"weir:plugin/files", which needs';
    expect(problems[0]).toMatch(new RegExp(`^/nodes/1/plugin .*${imported} the "filesystem" capability .*"capabilities": \\{"filesystem": \\[\\{"dir": "data", "mode": "ro"\\}\\]\\}`));
  });
});

describe('host test --capabilities', () => {
  const hostBin = join(import.meta.dirname, '../../bin/host.js');
  const hostTest = (dir: string, ...args: string[]) =>
    spawnSync(process.execPath, [hostBin, 'test', join(fixtures, 'files-js.wasm'), '--input', 'in.jsonl', '--cache-dir', cacheDir, ...args], { cwd: dir, encoding: 'utf8' });

  it('grants directories relative to the current folder, as a node would', async () => {
    const dir = await folders();
    await writeFile(join(dir, 'in.jsonl'), ['read /lookup/table.txt', 'write /lookup/x.txt no'].map((value) => JSON.stringify({ value })).join('\n'));
    const granted = hostTest(dir, '--capabilities', '{"filesystem":[{"dir":"lookup"}]}');
    expect(granted.status).toBe(0);
    expect(granted.stdout).toBe('{"value":"ok alpha"}\n{"value":"errno 69"}\n');
    const refused = hostTest(dir);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('"weir:plugin/files", which needs the "filesystem" capability');
    expect(refused.stderr).toContain('host test grants no capabilities unless --capabilities says so');
    const wrong = hostTest(dir, '--capabilities', '{"filesystem":[{"dir":"nope"}],"http":{"hosts":["a/b"]}}');
    expect(wrong.status).toBe(3);
    expect(wrong.stderr).toContain(`--capabilities: /filesystem/0/dir: directory ${join(dir, 'nope')} does not exist; /http/hosts/0: "a/b" is not a host pattern`);
  });
});
