/**
 * The `weir:plugin/files` interface for components: whole-file operations
 * on the directories a node grants, by the paths the plugin sees
 * (`/lookup/table.csv` is `table.csv` in the folder granted as `/lookup`).
 * Confined like WASI preview 1 access (see granted-directories.ts): a path
 * outside every grant, or leading out through `..` or a link, fails with
 * errno 76 (whatever the grant's mode); a write inside a read-only grant
 * with 69; a write past a read-write grant's `maxBytes` with 19 (dquot).
 *
 * Every change is recorded against the grants' quotas as it happens
 * (DirectoryQuota): a new file or directory costs its entry, a write what it
 * adds, a removal frees what it held.
 *
 * Stateless apart from the grants' resolved folders and quotas: nothing
 * stays open between calls, so there is nothing to close.
 */
import * as fs from 'node:fs';
import { ERRNO, Errno, confine, errnoOf, openGrant, requireWritable } from './granted-directories.js';
import type { OpenGrant } from './granted-directories.js';
import type { PreopenGrant } from '../contract/grants.js';
import { DirectoryQuota, ENTRY_BYTES, entryCost } from './directory-quota.js';
import type { DirectoryUsages, QuotaListener } from './directory-quota.js';

/** The WIT `file-error`. */
export interface FileError {
  errno: number;
  message: string;
}

/** Largest file `readFile` returns; a plugin's memory cap is lower anyway. */
export const MAX_READ_BYTES = 256 << 20;

const MEANING: Readonly<Record<number, string>> = {
  [ERRNO.noent]: 'no such file or directory',
  [ERRNO.notcapable]: 'outside every granted directory',
  [ERRNO.rofs]: 'the directory is granted read-only',
  [ERRNO.exist]: 'already exists',
  [ERRNO.notdir]: 'not a directory',
  [ERRNO.isdir]: 'is a directory',
  [ERRNO.notempty]: 'directory not empty',
  [ERRNO.fbig]: `larger than ${MAX_READ_BYTES} bytes`,
  [ERRNO.dquot]: 'the directory grant\'s maxBytes quota would be exceeded',
};

type QuotaGrant = OpenGrant & { quota: DirectoryQuota | undefined };

/** File operations under a node's directory grants. */
export class GrantedFiles {
  readonly #grants: QuotaGrant[];

  /** `exceeded` hears of every write a quota refuses; `usages` is where quotas count (the thread's: see DirectoryUsages). */
  constructor(grants: readonly PreopenGrant[], exceeded: QuotaListener | undefined, usages: DirectoryUsages) {
    // Longest guest path first, so /data/raw wins over /data.
    this.#grants = grants
      .map(openGrant)
      .map((open) => ({ ...open, quota: open.grant.mode === 'rw' ? new DirectoryQuota(open.grant, open.root, exceeded, usages) : undefined }))
      .sort((a, b) => b.grant.as.length - a.grant.as.length);
  }

  readFile(path: string): Uint8Array {
    return this.#run(path, (target) => {
      const info = fs.statSync(target);
      if (info.isDirectory()) throw new Errno(ERRNO.isdir);
      if (info.size > MAX_READ_BYTES) throw new Errno(ERRNO.fbig);
      return new Uint8Array(fs.readFileSync(target));
    });
  }

  writeFile(path: string, data: Uint8Array): void {
    this.#run(path, (target, quota) => {
      const before = fs.statSync(target, { throwIfNoEntry: false });
      changing(quota, target, before, ENTRY_BYTES + data.byteLength - entryCost(before), () => fs.writeFileSync(target, data));
    }, true);
  }

  appendFile(path: string, data: Uint8Array): void {
    this.#run(path, (target, quota) => {
      const before = fs.statSync(target, { throwIfNoEntry: false });
      changing(quota, target, before, (before ? 0 : ENTRY_BYTES) + data.byteLength, () => fs.appendFileSync(target, data));
    }, true);
  }

  listDir(path: string): string[] {
    return this.#run(path, (target) => fs.readdirSync(target).sort());
  }

  makeDir(path: string): void {
    this.#run(path, (target, quota) => changing(quota, target, fs.statSync(target, { throwIfNoEntry: false }), ENTRY_BYTES, () => fs.mkdirSync(target)), true);
  }

  removeFile(path: string): void {
    this.#run(path, (target, quota) => {
      if (fs.statSync(target).isDirectory()) throw new Errno(ERRNO.isdir);
      const freed = entryCost(fs.lstatSync(target));
      fs.unlinkSync(target);
      quota?.usages.record(target, -freed);
    }, true);
  }

  /**
   * Resolves `path` inside its grant (first: a path leading out is refused
   * as such, whatever the grant's mode) and runs `fn` on the host path;
   * failures become a {@link FileError}.
   */
  #run<T>(path: string, fn: (target: string, quota: DirectoryQuota | undefined) => T, writes = false): T {
    try {
      const { grant, root, rest, quota } = this.#grantOf(path);
      const target = confine(root, root, rest);
      if (writes) requireWritable(grant);
      return fn(target, quota);
    } catch (error) {
      const errno = error instanceof Errno ? error.value : errnoOf(error);
      throw { errno, message: `${path}: ${MEANING[errno] ?? (error instanceof Errno ? `errno ${errno}` : String((error as Error).message))}` } satisfies FileError;
    }
  }

  /**
   * The grant whose guest path begins `path` (as WASI libc picks a preopen),
   * and the rest of the path under it; `..` in the rest cannot climb out.
   */
  #grantOf(path: string): QuotaGrant & { rest: string } {
    for (const open of this.#grants) {
      const as = open.grant.as.replace(/\/+$/, '');
      if (path === as || path === `${as}/`) return { ...open, rest: '.' };
      if (path.startsWith(`${as}/`)) return { ...open, rest: path.slice(as.length + 1) };
    }
    throw new Errno(ERRNO.notcapable);
  }
}

/**
 * Runs `change` on `target` (whose stat, links followed, was `before`)
 * under `quota`: admits `growth` first, then records what the change really
 * did, whether it succeeded or failed half-way.
 */
function changing(quota: DirectoryQuota | undefined, target: string, before: fs.Stats | undefined, growth: number, change: () => void): void {
  quota?.admit(growth, target);
  try {
    change();
  } finally {
    quota?.usages.record(target, entryCost(fs.statSync(target, { throwIfNoEntry: false })) - entryCost(before));
  }
}
