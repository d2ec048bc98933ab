/**
 * The maxBytes quota of a read-write directory grant, through both file
 * interfaces driven directly (WASI preview 1: PreopenFilesystem;
 * `weir:plugin/files`: GrantedFiles): the ways past it an outside review
 * found (pwrite on an O_APPEND descriptor or at an offset of 2^63 or more,
 * directories and empty files costing nothing, parallel instances each
 * taking the whole quota) and the cost of a refusal (no walk of the folder
 * per refused write). "Another thread" is modelled by a second
 * DirectoryUsages registry: each worker thread has its own.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PreopenFilesystem } from '../../src/linker/preopen-filesystem.js';
import { GrantedFiles } from '../../src/linker/granted-files.js';
import type { FileError } from '../../src/linker/granted-files.js';
import { DirectoryUsages, ENTRY_BYTES, REFUSAL_REMEASURE_MS, costUnder } from '../../src/linker/directory-quota.js';

const E = ENTRY_BYTES;
const OFLAG_CREAT = 1;
const OFLAG_TRUNC = 8;
const FDFLAG_APPEND = 1;
const RIGHTS = 64n | 2n; // fd_write | fd_read
const ERRNO = { success: 0, dquot: 19, inval: 28 };

const tempDir = () => mkdtempSync(join(tmpdir(), 'weir-quota-'));

/** Preview 1 on a fresh folder granted rw as /out, with a few helpers over guest memory. */
function preview1(maxBytes: number, usages = new DirectoryUsages()) {
  const dir = tempDir();
  const memory = new WebAssembly.Memory({ initial: 2 });
  const wasi = new PreopenFilesystem([{ dir, as: '/out', mode: 'rw', maxBytes }], () => memory, undefined, usages).imports() as Record<string, (...a: unknown[]) => number>;
  const view = () => new DataView(memory.buffer);
  const name = (text: string) => {
    const bytes = Buffer.from(text);
    new Uint8Array(memory.buffer).set(bytes, 100);
    return bytes.length;
  };
  const open = (file: string, fdflags: number, oflags = OFLAG_CREAT): number => {
    expect(wasi.path_open!(3, 0, 100, name(file), oflags, RIGHTS, 0n, fdflags, 200)).toBe(ERRNO.success);
    return view().getUint32(200, true);
  };
  // One iovec at 300 naming `length` bytes at 1000.
  const iovec = (length: number) => { view().setUint32(300, 1000, true); view().setUint32(304, length, true); };
  const mkdir = (path: string) => wasi.path_create_directory!(3, 100, name(path));
  const rmdir = (path: string) => wasi.path_remove_directory!(3, 100, name(path));
  const create = (file: string) => wasi.path_open!(3, 0, 100, name(file), OFLAG_CREAT, RIGHTS, 0n, 0, 200);
  return { dir, wasi, open, iovec, mkdir, rmdir, create };
}

/** The errno a GrantedFiles call failed with (0: it succeeded). */
function errnoOf(call: () => void): number {
  try {
    call();
    return 0;
  } catch (error) {
    return (error as FileError).errno;
  }
}

/** Bytes the folder takes on disk, by du (the folder itself included). */
const onDisk = (dir: string) => Number(execFileSync('du', ['-s', '--block-size=1', dir]).toString().split('\t')[0]);

describe('rw grant maxBytes: writes', () => {
  it('fd_pwrite on an O_APPEND descriptor counts every byte, since Linux appends whatever the offset', () => {
    const { dir, wasi, open, iovec } = preview1(E + 1000);
    const fd = open('f.txt', FDFLAG_APPEND);
    iovec(600);
    expect(wasi.fd_write!(fd, 300, 1, 400)).toBe(ERRNO.success);
    const results = Array.from({ length: 5 }, () => wasi.fd_pwrite!(fd, 300, 1, 0n, 400));
    expect(results).toEqual([ERRNO.dquot, ERRNO.dquot, ERRNO.dquot, ERRNO.dquot, ERRNO.dquot]);
    expect(statSync(join(dir, 'f.txt')).size).toBe(600);
    iovec(400);
    expect(wasi.fd_pwrite!(fd, 300, 1, 0n, 400)).toBe(ERRNO.success);
    expect(statSync(join(dir, 'f.txt')).size).toBe(1000);
  });

  it('fd_pwrite and fd_pread refuse an offset of 2^63 or more (a negative i64) with inval, writing nothing', () => {
    const { dir, wasi, open, iovec } = preview1(E + 1000);
    const fd = open('g.txt', 0);
    iovec(900);
    for (let i = 0; i < 4; i++) expect(wasi.fd_pwrite!(fd, 300, 1, -(2n ** 53n), 400)).toBe(ERRNO.inval);
    expect(wasi.fd_pwrite!(fd, 300, 1, -1n, 400)).toBe(ERRNO.inval);
    expect(wasi.fd_pread!(fd, 300, 1, -1n, 400)).toBe(ERRNO.inval);
    expect(statSync(join(dir, 'g.txt')).size).toBe(0);
  });

  it('O_TRUNC and overwrites count what the file really holds afterwards', () => {
    const { wasi, open, iovec } = preview1(E + 1000);
    const fd = open('h.txt', 0);
    iovec(1000);
    expect(wasi.fd_write!(fd, 300, 1, 400)).toBe(ERRNO.success);
    expect(wasi.fd_pwrite!(fd, 300, 1, 1n, 400)).toBe(ERRNO.dquot); // one byte past the end
    expect(wasi.fd_pwrite!(fd, 300, 1, 0n, 400)).toBe(ERRNO.success); // in place: no growth
    const again = open('h.txt', 0, OFLAG_TRUNC); // frees the 1000 bytes
    expect(wasi.fd_write!(again, 300, 1, 400)).toBe(ERRNO.success);
  });
});

describe('rw grant maxBytes: entries', () => {
  it('directories made through weir:plugin/files cost an entry each, so the quota bounds disk use', () => {
    const dir = tempDir();
    const files = new GrantedFiles([{ dir, as: '/out', mode: 'rw', maxBytes: 100_000 }], undefined, new DirectoryUsages());
    let made = 0;
    while (made < 1000 && errnoOf(() => files.makeDir(`/out/d${made}`)) === 0) made++;
    expect(made).toBe(Math.floor(100_000 / E));
    expect(errnoOf(() => files.makeDir('/out/more'))).toBe(ERRNO.dquot);
    expect(errnoOf(() => files.writeFile('/out/empty', new Uint8Array(0)))).toBe(ERRNO.dquot);
    expect(onDisk(dir)).toBeLessThanOrEqual(100_000 + E);
  });

  it('directories and empty files made through preview 1 cost an entry each', () => {
    const { dir, wasi, open, mkdir, rmdir, create } = preview1(10 * E);
    for (let i = 0; i < 5; i++) expect(mkdir(`d${i}`)).toBe(ERRNO.success);
    for (let i = 0; i < 5; i++) expect(wasi.fd_close!(open(`f${i}`, 0))).toBe(ERRNO.success);
    expect(mkdir('d5')).toBe(ERRNO.dquot);
    expect(create('f5')).toBe(ERRNO.dquot);
    expect(costUnder(dir)).toBe(11 * E); // what the quota counts (the folder itself included)
    // Removing frees the entry, without measuring again.
    expect(rmdir('d0')).toBe(ERRNO.success);
    expect(mkdir('d5')).toBe(ERRNO.success);
  });
});

describe('rw grant maxBytes: instances sharing a folder', () => {
  it('instances in one thread share one count: together they stay within maxBytes exactly', () => {
    const dir = tempDir();
    const grant = { dir, as: '/out', mode: 'rw' as const, maxBytes: 64 * E };
    const usages = new DirectoryUsages();
    const a = new GrantedFiles([grant], undefined, usages);
    const b = new GrantedFiles([grant], undefined, usages);
    expect(errnoOf(() => b.writeFile('/out/b0', new Uint8Array(0)))).toBe(0); // b measures: E
    expect(errnoOf(() => a.writeFile('/out/a1', new Uint8Array(61 * E + 50)))).toBe(0); // 63 E + 50
    // Small enough that b would not measure again on its own count (E + 100 after E, under a sixteenth).
    expect(errnoOf(() => b.writeFile('/out/b1', new Uint8Array(100)))).toBe(ERRNO.dquot);
    expect(errnoOf(() => b.writeFile('/out/b1', new Uint8Array(E - 50)))).toBe(ERRNO.dquot);
    expect(costUnder(dir) - E).toBeLessThanOrEqual(grant.maxBytes);
    // b sees what a removes at once.
    a.removeFile('/out/a1');
    expect(errnoOf(() => b.writeFile('/out/b1', new Uint8Array(100)))).toBe(0);
  });

  it('instances in other threads measure before a write that would take them past a sixteenth, that write included', () => {
    const dir = tempDir();
    const maxBytes = 1 << 20;
    const grant = { dir, as: '/out', mode: 'rw' as const, maxBytes };
    const a = new GrantedFiles([grant], undefined, new DirectoryUsages());
    const b = new GrantedFiles([grant], undefined, new DirectoryUsages());
    a.writeFile('/out/a0', new Uint8Array(1));
    b.writeFile('/out/b0', new Uint8Array(1));
    expect(errnoOf(() => a.writeFile('/out/a1', new Uint8Array(900_000)))).toBe(0);
    expect(errnoOf(() => b.writeFile('/out/b1', new Uint8Array(900_000)))).toBe(ERRNO.dquot);
    expect(costUnder(dir) - E).toBeLessThanOrEqual(maxBytes + 2 * (maxBytes / 16));
  });
});

describe('rw grant maxBytes: renames and nested grants', () => {
  it('a grant sees what a nested grant of another instance in the thread writes, at once', () => {
    const outer = tempDir();
    const inner = join(outer, 'inner');
    mkdirSync(inner);
    const usages = new DirectoryUsages();
    const whole = new GrantedFiles([{ dir: outer, as: '/all', mode: 'rw', maxBytes: 64 * E }], undefined, usages);
    const part = new GrantedFiles([{ dir: inner, as: '/part', mode: 'rw', maxBytes: 1 << 30 }], undefined, usages);
    expect(errnoOf(() => whole.writeFile('/all/a', new Uint8Array(0)))).toBe(0); // whole measures: 2 E
    expect(errnoOf(() => part.writeFile('/part/b', new Uint8Array(60 * E)))).toBe(0); // 63 E
    expect(errnoOf(() => whole.writeFile('/all/c', new Uint8Array(100)))).toBe(ERRNO.dquot);
    part.removeFile('/part/b');
    expect(errnoOf(() => whole.writeFile('/all/c', new Uint8Array(100)))).toBe(0);
  });

  it('a rename into another grant counts what it moves there and frees it where it left; a replaced file is freed', () => {
    const small = tempDir();
    const large = tempDir();
    const memory = new WebAssembly.Memory({ initial: 1 });
    const usages = new DirectoryUsages();
    const wasi = new PreopenFilesystem([
      { dir: small, as: '/small', mode: 'rw', maxBytes: 40 * E },
      { dir: large, as: '/large', mode: 'rw', maxBytes: 1 << 30 },
    ], () => memory, undefined, usages).imports() as Record<string, (...a: unknown[]) => number>;
    const bytes = new Uint8Array(memory.buffer);
    const rename = (fromFd: number, from: string, toFd: number, to: string) => {
      bytes.set(Buffer.from(from), 100);
      bytes.set(Buffer.from(to), 200);
      return wasi.path_rename!(fromFd, 100, from.length, toFd, 200, to.length);
    };
    writeFileSync(join(large, 'big'), new Uint8Array(2 * E));
    writeFileSync(join(large, 'fits'), new Uint8Array(60));
    writeFileSync(join(large, 'next'), new Uint8Array(50));
    writeFileSync(join(small, 'old'), new Uint8Array(37 * E)); // small: 38 E
    // fds: 3 is /small, 4 is /large.
    expect(rename(4, 'big', 3, 'big')).toBe(ERRNO.dquot); // would make 41 E
    expect(rename(4, 'fits', 3, 'fits')).toBe(ERRNO.success); // 39 E + 60
    expect(rename(4, 'next', 3, 'next')).toBe(ERRNO.dquot); // would make 40 E + 110
    expect(rename(3, 'fits', 3, 'old')).toBe(ERRNO.success); // replaces old: E + 60, recorded without measuring
    expect(rename(4, 'next', 3, 'next')).toBe(ERRNO.success); // 2 E + 110
    expect(costUnder(small) - E).toBe(2 * E + 110);
    expect(costUnder(large) - E).toBe(3 * E);
  });
});

describe('rw grant maxBytes: refusals', () => {
  it('do not walk the folder each time: at most once per REFUSAL_REMEASURE_MS; removals in the thread count at once', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ext'), '');
    let clock = 0;
    let measures = 0;
    const usages = new DirectoryUsages({ now: () => clock, measure: (root) => { measures++; return costUnder(root) - E; } });
    const files = new GrantedFiles([{ dir, as: '/out', mode: 'rw', maxBytes: 40 * E }], undefined, usages);
    files.writeFile('/out/full', new Uint8Array(37 * E - 10)); // the folder: ext + full = 39 E - 10
    files.writeFile('/out/other', new Uint8Array(0)); // 40 E - 10
    clock += REFUSAL_REMEASURE_MS;
    const before = measures;
    const refused = Array.from({ length: 50 }, () => errnoOf(() => files.appendFile('/out/full', new Uint8Array(11))));
    expect(refused.every((errno) => errno === ERRNO.dquot)).toBe(true);
    expect(measures).toBe(before + 1); // one walk for fifty refusals
    // A removal through the grant frees its entry at once, without a walk.
    files.removeFile('/out/other');
    expect(errnoOf(() => files.appendFile('/out/full', new Uint8Array(11)))).toBe(0); // 39 E + 1
    expect(measures).toBe(before + 1);
    // What someone else removes is seen once a refusal may walk again.
    unlinkSync(join(dir, 'ext'));
    expect(errnoOf(() => files.writeFile('/out/other', new Uint8Array(0)))).toBe(ERRNO.dquot);
    expect(measures).toBe(before + 1);
    clock += REFUSAL_REMEASURE_MS;
    expect(errnoOf(() => files.writeFile('/out/other', new Uint8Array(0)))).toBe(0);
    expect(measures).toBe(before + 2);
  });

  it('a refusal is refused whole and the folder is counted from what is on disk, what was there before included', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'old'), new Uint8Array(100));
    const files = new GrantedFiles([{ dir, as: '/out', mode: 'rw', maxBytes: 2 * E + 150 }], undefined, new DirectoryUsages());
    expect(errnoOf(() => files.writeFile('/out/new', new Uint8Array(51)))).toBe(ERRNO.dquot);
    expect(() => statSync(join(dir, 'new'))).toThrow(/ENOENT/);
    expect(errnoOf(() => files.writeFile('/out/new', new Uint8Array(50)))).toBe(0);
  });
});
