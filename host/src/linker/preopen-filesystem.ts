/**
 * WASI preview 1 file access for one core-module instance, confined to the
 * directories its node grants (`"capabilities": {"filesystem": [...]}`).
 *
 * Each grant is a preopened directory (fd 3, 4, ... in grant order) under
 * its guest path (`as`). Every path a plugin names is resolved against a
 * directory it holds and must stay inside that grant's directory, symbolic
 * links included (`..`, absolute paths and links leading out fail with
 * `notcapable`, whatever the grant's mode: the path is checked first). A
 * read-only grant refuses every write, create, rename and delete with
 * `rofs`; a write that would take a read-write grant past its `maxBytes`
 * with `dquot` (see DirectoryQuota: a new file or directory costs its entry,
 * a write what it really added to the file, an `O_APPEND` descriptor's
 * write all its bytes wherever it asks to write; truncations, removals and
 * renames are recorded as they happen). These are the errno values
 * `weir:plugin/files` gives components (GrantedFiles), case for case.
 * Errors are WASI errno values; nothing here throws into the guest.
 *
 * Lifecycle: one per instance; `close()` closes every file the plugin left
 * open (the instance's `close` calls it).
 */
import * as fs from 'node:fs';
import { ERRNO, Errno, confine, errnoOf, isInside, openGrant, requireWritable } from './granted-directories.js';
import type { PreopenGrant } from '../contract/grants.js';
import { DirectoryQuota, ENTRY_BYTES, costUnder, entryCost, growthOf } from './directory-quota.js';
import type { DirectoryUsages, QuotaListener } from './directory-quota.js';

const FILETYPE = { unknown: 0, directory: 3, regular: 4, symlink: 7 } as const;
const OFLAGS = { creat: 1, directory: 2, excl: 4, trunc: 8 } as const;
const FDFLAG_APPEND = 1;
const RIGHT_FD_WRITE = 1n << 6n;
const ALL_RIGHTS = (1n << 30n) - 1n;
/** Open files per instance. */
const MAX_OPEN = 256;

interface OpenEntry {
  /** The grant this descriptor lives under. */
  grant: PreopenGrant;
  /** Real path of the grant's folder (links resolved), the boundary every path is checked against. */
  root: string;
  /** The grant's byte quota (`rw` grants), shared by every descriptor under it. */
  quota: DirectoryQuota | undefined;
  /** Host path of the file or directory. */
  path: string;
  /** Host descriptor of a file; `undefined` for a directory. */
  fd: number | undefined;
  position: bigint;
  append: boolean;
  preopen: boolean;
}

/** The preview 1 file functions of one instance. */
export class PreopenFilesystem {
  readonly #entries = new Map<number, OpenEntry>();
  readonly #memory: () => WebAssembly.Memory;
  readonly #usages: DirectoryUsages;
  #nextFd: number;

  /** `exceeded` hears of every write a quota refuses; `usages` is where quotas count (the thread's: see DirectoryUsages). */
  constructor(grants: readonly PreopenGrant[], memory: () => WebAssembly.Memory, exceeded: QuotaListener | undefined, usages: DirectoryUsages) {
    this.#memory = memory;
    this.#usages = usages;
    let fd = 3;
    for (const { grant, root } of grants.map(openGrant)) {
      const quota = grant.mode === 'rw' ? new DirectoryQuota(grant, root, exceeded, usages) : undefined;
      this.#entries.set(fd++, { grant, root, quota, path: root, fd: undefined, position: 0n, append: false, preopen: true });
    }
    this.#nextFd = fd;
  }

  /** Closes every file the plugin left open. */
  close(): void {
    for (const entry of this.#entries.values()) if (entry.fd !== undefined) fs.closeSync(entry.fd);
    this.#entries.clear();
  }

  /** The import functions, by preview 1 name. */
  imports(): Record<string, (...args: never[]) => number> {
    const guarded = (fn: (...args: never[]) => number) => ((...args: never[]) => {
      try {
        return fn(...args);
      } catch (error) {
        if (error instanceof Errno) return error.value;
        if (error instanceof RangeError) return ERRNO.inval;
        return errnoOf(error);
      }
    }) as (...args: never[]) => number;
    const table: Record<string, (...args: never[]) => number> = {
      fd_prestat_get: (fd: number, out: number) => {
        const entry = this.#entries.get(fd);
        if (!entry?.preopen) return ERRNO.badf;
        this.#view().setUint8(out, 0);
        this.#view().setUint32(out + 4, Buffer.byteLength(entry.grant.as), true);
        return ERRNO.success;
      },
      fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
        const entry = this.#entries.get(fd);
        if (!entry?.preopen) return ERRNO.badf;
        const name = Buffer.from(entry.grant.as);
        if (len < name.byteLength) return ERRNO.inval;
        this.#bytes().set(name, ptr);
        return ERRNO.success;
      },
      path_open: (dirFd: number, _dirflags: number, ptr: number, len: number, oflags: number, rightsBase: bigint, _inheriting: bigint, fdflags: number, out: number) => {
        const dir = this.#directory(dirFd);
        const path = this.#resolve(dir, this.#string(ptr, len));
        const writes = (oflags & (OFLAGS.creat | OFLAGS.trunc)) !== 0 || (fdflags & FDFLAG_APPEND) !== 0 || (BigInt(rightsBase) & RIGHT_FD_WRITE) !== 0n;
        if (writes) this.#writable(dir);
        if (this.#entries.size >= MAX_OPEN + 3) return ERRNO.mfile;
        const existing = fs.statSync(path, { throwIfNoEntry: false });
        if (existing?.isDirectory() || (oflags & OFLAGS.directory) !== 0) {
          if (!existing) return ERRNO.noent;
          if (!existing.isDirectory()) return ERRNO.notdir;
          if (writes && (oflags & OFLAGS.trunc) !== 0) return ERRNO.isdir;
          return this.#add(out, { grant: dir.grant, root: dir.root, quota: dir.quota, path, fd: undefined, position: 0n, append: false, preopen: false });
        }
        let flags = writes ? ((BigInt(rightsBase) & 2n) !== 0n ? fs.constants.O_RDWR : fs.constants.O_WRONLY) : fs.constants.O_RDONLY;
        if (oflags & OFLAGS.creat) flags |= fs.constants.O_CREAT;
        if (oflags & OFLAGS.excl) flags |= fs.constants.O_EXCL;
        if (oflags & OFLAGS.trunc) flags |= fs.constants.O_TRUNC;
        if (fdflags & FDFLAG_APPEND) flags |= fs.constants.O_APPEND;
        // A new file costs its entry (admitted first); O_TRUNC frees what the file held.
        if (!existing && (oflags & OFLAGS.creat) !== 0) dir.quota?.admit(ENTRY_BYTES, path);
        let fd: number;
        try {
          fd = fs.openSync(path, flags);
        } finally {
          if (writes) this.#usages.record(path, entryCost(fs.statSync(path, { throwIfNoEntry: false })) - entryCost(existing));
        }
        return this.#add(out, { grant: dir.grant, root: dir.root, quota: dir.quota, path, fd, position: 0n, append: (fdflags & FDFLAG_APPEND) !== 0, preopen: false });
      },
      fd_close: (fd: number) => {
        const entry = this.#entries.get(fd);
        if (!entry) return ERRNO.badf;
        if (entry.preopen) return ERRNO.success;
        if (entry.fd !== undefined) fs.closeSync(entry.fd);
        this.#entries.delete(fd);
        return ERRNO.success;
      },
      fd_read: (fd: number, iovs: number, count: number, out: number) => {
        const entry = this.#file(fd);
        const read = this.#readInto(entry, iovs, count, entry.position);
        entry.position += BigInt(read);
        this.#view().setUint32(out, read, true);
        return ERRNO.success;
      },
      fd_pread: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
        // A u64 offset of 2^63 or more arrives as a negative i64 (Node would read at the descriptor's position).
        if (BigInt(offset) < 0n) return ERRNO.inval;
        this.#view().setUint32(out, this.#readInto(this.#file(fd), iovs, count, BigInt(offset)), true);
        return ERRNO.success;
      },
      fd_write: (fd: number, iovs: number, count: number, out: number) => {
        const entry = this.#file(fd);
        this.#writable(entry);
        const size = fs.fstatSync(entry.fd).size;
        const position = entry.append ? BigInt(size) : entry.position;
        const length = this.#length(iovs, count);
        const written = this.#growing(entry, size, entry.append ? length : growthOf(size, Number(position), length), () => this.#writeFrom(entry, iovs, count, position));
        entry.position = position + BigInt(written);
        this.#view().setUint32(out, written, true);
        return ERRNO.success;
      },
      fd_pwrite: (fd: number, iovs: number, count: number, offset: bigint, out: number) => {
        const entry = this.#file(fd);
        this.#writable(entry);
        // A u64 offset of 2^63 or more arrives as a negative i64 (Node would write at the descriptor's position).
        if (BigInt(offset) < 0n) return ERRNO.inval;
        const size = fs.fstatSync(entry.fd).size;
        const length = this.#length(iovs, count);
        // On an O_APPEND descriptor pwrite appends whatever the offset (Linux): every byte counts.
        const growth = entry.append ? length : growthOf(size, Number(offset), length);
        this.#view().setUint32(out, this.#growing(entry, size, growth, () => this.#writeFrom(entry, iovs, count, BigInt(offset))), true);
        return ERRNO.success;
      },
      fd_seek: (fd: number, offset: bigint, whence: number, out: number) => {
        const entry = this.#file(fd);
        const base = whence === 0 ? 0n : whence === 1 ? entry.position : whence === 2 ? BigInt(fs.fstatSync(entry.fd!).size) : -1n;
        const next = base + BigInt(offset);
        if (base < 0n || next < 0n) return ERRNO.inval;
        entry.position = next;
        this.#view().setBigUint64(out, next, true);
        return ERRNO.success;
      },
      fd_tell: (fd: number, out: number) => {
        this.#view().setBigUint64(out, this.#file(fd).position, true);
        return ERRNO.success;
      },
      fd_fdstat_get: (fd: number, out: number) => {
        const entry = this.#entries.get(fd);
        if (!entry) return ERRNO.badf;
        const view = this.#view();
        view.setUint8(out, entry.fd === undefined ? FILETYPE.directory : FILETYPE.regular);
        view.setUint16(out + 2, entry.append ? FDFLAG_APPEND : 0, true);
        const rights = entry.grant.mode === 'rw' ? ALL_RIGHTS : ALL_RIGHTS & ~RIGHT_FD_WRITE;
        view.setBigUint64(out + 8, rights, true);
        view.setBigUint64(out + 16, rights, true);
        return ERRNO.success;
      },
      fd_fdstat_set_flags: () => ERRNO.nosys,
      fd_filestat_get: (fd: number, out: number) => {
        const entry = this.#entries.get(fd);
        if (!entry) return ERRNO.badf;
        this.#writeStat(out, entry.fd === undefined ? fs.statSync(entry.path) : fs.fstatSync(entry.fd));
        return ERRNO.success;
      },
      path_filestat_get: (dirFd: number, _flags: number, ptr: number, len: number, out: number) => {
        const path = this.#resolve(this.#directory(dirFd), this.#string(ptr, len));
        this.#writeStat(out, fs.lstatSync(path));
        return ERRNO.success;
      },
      fd_readdir: (fd: number, buf: number, bufLen: number, cookie: bigint, out: number) => {
        const entry = this.#directory(fd);
        const names = fs.readdirSync(entry.path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
        const bytes = this.#bytes();
        let used = 0;
        for (let i = Number(cookie); i < names.length && used < bufLen; i++) {
          const name = Buffer.from(names[i]!.name);
          const record = new Uint8Array(24 + name.byteLength);
          const view = new DataView(record.buffer);
          view.setBigUint64(0, BigInt(i + 1), true);
          view.setBigUint64(8, 0n, true);
          view.setUint32(16, name.byteLength, true);
          view.setUint8(20, names[i]!.isDirectory() ? FILETYPE.directory : names[i]!.isFile() ? FILETYPE.regular : names[i]!.isSymbolicLink() ? FILETYPE.symlink : FILETYPE.unknown);
          record.set(name, 24);
          // A record that does not fit is cut off; a full buffer tells the guest to call again.
          const part = record.subarray(0, Math.min(record.byteLength, bufLen - used));
          bytes.set(part, buf + used);
          used += part.byteLength;
        }
        this.#view().setUint32(out, used, true);
        return ERRNO.success;
      },
      path_create_directory: (dirFd: number, ptr: number, len: number) => {
        const dir = this.#directory(dirFd);
        const path = this.#resolve(dir, this.#string(ptr, len));
        this.#writable(dir);
        const existing = fs.statSync(path, { throwIfNoEntry: false });
        dir.quota?.admit(ENTRY_BYTES, path);
        try {
          fs.mkdirSync(path);
        } finally {
          this.#usages.record(path, entryCost(fs.statSync(path, { throwIfNoEntry: false })) - entryCost(existing));
        }
        return ERRNO.success;
      },
      path_remove_directory: (dirFd: number, ptr: number, len: number) => {
        const dir = this.#directory(dirFd);
        const path = this.#resolve(dir, this.#string(ptr, len));
        this.#writable(dir);
        if (path === dir.root) return ERRNO.perm;
        fs.rmdirSync(path);
        this.#usages.record(path, -ENTRY_BYTES);
        return ERRNO.success;
      },
      path_unlink_file: (dirFd: number, ptr: number, len: number) => {
        const dir = this.#directory(dirFd);
        const path = this.#resolve(dir, this.#string(ptr, len));
        this.#writable(dir);
        const freed = entryCost(fs.lstatSync(path));
        fs.unlinkSync(path);
        this.#usages.record(path, -freed);
        return ERRNO.success;
      },
      path_rename: (fromFd: number, fromPtr: number, fromLen: number, toFd: number, toPtr: number, toLen: number) => {
        const from = this.#directory(fromFd);
        const to = this.#directory(toFd);
        const source = this.#resolve(from, this.#string(fromPtr, fromLen));
        const target = this.#resolve(to, this.#string(toPtr, toLen));
        this.#writable(from);
        this.#writable(to);
        // Moved in from outside the target's grant, what it costs counts against that grant's quota; what it replaces is freed.
        const moved = costUnder(source);
        const replaced = costUnder(target);
        to.quota?.admit((isInside(to.root, source) ? 0 : moved) - replaced, target);
        fs.renameSync(source, target);
        this.#usages.record(source, -moved);
        this.#usages.record(target, moved - replaced);
        return ERRNO.success;
      },
      fd_sync: (fd: number) => {
        fs.fsyncSync(this.#file(fd).fd!);
        return ERRNO.success;
      },
      fd_datasync: (fd: number) => {
        fs.fdatasyncSync(this.#file(fd).fd!);
        return ERRNO.success;
      },
      // Links could lead out of a grant: not offered.
      path_symlink: () => ERRNO.notcapable,
      path_link: () => ERRNO.notcapable,
    };
    return Object.fromEntries(Object.entries(table).map(([name, fn]) => [name, guarded(fn)]));
  }

  #view(): DataView {
    return new DataView(this.#memory().buffer);
  }

  #bytes(): Uint8Array {
    return new Uint8Array(this.#memory().buffer);
  }

  #string(ptr: number, len: number): string {
    return Buffer.from(this.#memory().buffer, ptr, len).toString('utf8');
  }

  #add(out: number, entry: OpenEntry): number {
    const fd = this.#nextFd++;
    this.#entries.set(fd, entry);
    this.#view().setUint32(out, fd, true);
    return ERRNO.success;
  }

  #directory(fd: number): OpenEntry {
    const entry = this.#entries.get(fd);
    if (!entry) throw new Errno(ERRNO.badf);
    if (entry.fd !== undefined) throw new Errno(ERRNO.notdir);
    return entry;
  }

  #file(fd: number): OpenEntry & { fd: number } {
    const entry = this.#entries.get(fd);
    if (!entry) throw new Errno(ERRNO.badf);
    if (entry.fd === undefined) throw new Errno(ERRNO.isdir);
    return entry as OpenEntry & { fd: number };
  }

  #writable(entry: OpenEntry): void {
    requireWritable(entry.grant);
  }

  /**
   * Runs `write` on a file of `size` bytes after its quota admits `growth`,
   * then records what the file really grew (or shrank) by, whether the
   * write succeeded or failed half-way.
   */
  #growing<T>(entry: OpenEntry & { fd: number }, size: number, growth: number, write: () => T): T {
    entry.quota?.admit(growth, entry.path);
    try {
      return write();
    } finally {
      this.#usages.record(entry.path, fs.fstatSync(entry.fd).size - size);
    }
  }


  /**
   * The host path of `path` relative to directory `dir`, if it stays inside
   * the grant: lexically, and once the links of its existing part resolve.
   */
  #resolve(dir: OpenEntry, path: string): string {
    return confine(dir.root, dir.path, path);
  }


  /** Total length of the guest buffers an iovec array names. */
  #length(iovs: number, count: number): number {
    const view = this.#view();
    let total = 0;
    for (let i = 0; i < count; i++) total += view.getUint32(iovs + 8 * i + 4, true);
    return total;
  }

  /** The guest buffers an iovec array names, as views into its memory. */
  *#buffers(iovs: number, count: number): Generator<Uint8Array> {
    for (let i = 0; i < count; i++) {
      const view = this.#view();
      yield new Uint8Array(this.#memory().buffer, view.getUint32(iovs + 8 * i, true), view.getUint32(iovs + 8 * i + 4, true));
    }
  }

  #readInto(entry: OpenEntry & { fd: number }, iovs: number, count: number, position: bigint): number {
    let total = 0;
    for (const buffer of this.#buffers(iovs, count)) {
      const read = fs.readSync(entry.fd, buffer, 0, buffer.byteLength, position + BigInt(total));
      total += read;
      if (read < buffer.byteLength) break;
    }
    return total;
  }

  #writeFrom(entry: OpenEntry & { fd: number }, iovs: number, count: number, position: bigint): number {
    let total = 0;
    for (const buffer of this.#buffers(iovs, count)) total += fs.writeSync(entry.fd, buffer, 0, buffer.byteLength, Number(position) + total);
    return total;
  }

  #writeStat(out: number, stat: fs.Stats): void {
    const view = this.#view();
    const type = stat.isDirectory() ? FILETYPE.directory : stat.isFile() ? FILETYPE.regular : stat.isSymbolicLink() ? FILETYPE.symlink : FILETYPE.unknown;
    const ns = (ms: number) => BigInt(Math.round(ms * 1e6));
    view.setBigUint64(out, BigInt(stat.dev), true);
    view.setBigUint64(out + 8, BigInt(stat.ino), true);
    view.setUint8(out + 16, type);
    view.setBigUint64(out + 24, BigInt(stat.nlink), true);
    view.setBigUint64(out + 32, BigInt(stat.size), true);
    view.setBigUint64(out + 40, ns(stat.atimeMs), true);
    view.setBigUint64(out + 48, ns(stat.mtimeMs), true);
    view.setBigUint64(out + 56, ns(stat.ctimeMs), true);
  }
}
