/**
 * The byte quota of a read-write directory grant (`"maxBytes"`): the most
 * the regular files under the granted folder may hold in total, what was
 * there before the run included. Both ways a plugin writes (WASI preview 1
 * for core modules, `weir:plugin/files` for components) ask
 * {@link DirectoryQuota.reserve} before a write that makes the folder
 * larger; a write that would pass the quota is refused whole, with errno
 * `dquot`, and reported through the `exceeded` callback (the loaders log it
 * and count it).
 *
 * The folder's size is measured by walking it (links are not followed) and
 * then tracked by what this instance writes; it is measured again before any
 * refusal (files may have been deleted) and after every sixteenth of the
 * quota written, so other instances writing to the same folder (parallel
 * instances, worker threads) are seen: together they can pass the quota by
 * at most a sixteenth of it each.
 */
import * as fs from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { ERRNO, Errno } from './granted-directories.js';
import type { PreopenGrant } from './granted-directories.js';
import type { HostContext } from './host-context.js';

/** The default `maxBytes` of an `rw` grant: 1 GiB. */
export const DEFAULT_GRANT_MAX_BYTES = 1 << 30;

/** A write refused by a quota. */
export interface QuotaExceeded {
  readonly grant: PreopenGrant;
  /** The file, as the plugin sees it (under the grant's `as`). */
  readonly path: string;
  readonly maxBytes: number;
  /** Bytes under the folder when the write was refused. */
  readonly usedBytes: number;
  /** Bytes the write would have added. */
  readonly growthBytes: number;
}

/** Called for every refused write. */
export type QuotaListener = (refusal: QuotaExceeded) => void;

/** The quota of one grant, as one instance sees it. */
export class DirectoryQuota {
  readonly #grant: PreopenGrant;
  readonly #root: string;
  readonly #maxBytes: number;
  readonly #exceeded: QuotaListener | undefined;
  /** Bytes under the folder at the last walk (`undefined`: not walked yet). */
  #measured: number | undefined;
  /** Bytes this instance added since. */
  #added = 0;

  constructor(grant: PreopenGrant, root: string, exceeded?: QuotaListener) {
    this.#grant = grant;
    this.#root = root;
    this.#maxBytes = grant.maxBytes ?? DEFAULT_GRANT_MAX_BYTES;
    this.#exceeded = exceeded;
  }

  /**
   * Accounts for a write that adds `growth` bytes to `target` (a host path
   * under the folder).
   *
   * @throws Errno `dquot` when it would take the folder past the quota (nothing is accounted).
   */
  reserve(growth: number, target: string): void {
    if (growth <= 0) return;
    if (this.#measured === undefined || this.#added >= this.#maxBytes / 16) this.#walk();
    if (this.#used() + growth > this.#maxBytes) {
      this.#walk();
      const used = this.#used();
      if (used + growth > this.#maxBytes) {
        const path = posix.join(this.#grant.as, relative(this.#root, target).split(sep).join('/'));
        this.#exceeded?.({ grant: this.#grant, path, maxBytes: this.#maxBytes, usedBytes: used, growthBytes: growth });
        throw new Errno(ERRNO.dquot);
      }
    }
    this.#added += growth;
  }

  #used(): number {
    return this.#measured! + this.#added;
  }

  #walk(): void {
    this.#measured = bytesUnder(this.#root);
    this.#added = 0;
  }
}

/** Bytes of the regular files at or under `path` (links not followed; what vanishes meanwhile counts 0). */
export function bytesUnder(path: string): number {
  const top = fs.lstatSync(path, { throwIfNoEntry: false });
  if (!top?.isDirectory()) return top?.isFile() ? top.size : 0;
  let total = 0;
  const pending = [path];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const child = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(child);
      else if (entry.isFile()) total += fs.lstatSync(child, { throwIfNoEntry: false })?.size ?? 0;
    }
  }
  return total;
}

/**
 * How many bytes writing `length` bytes at `position` adds to a file of
 * `size` bytes (zero when it stays inside).
 */
export function growthOf(size: number, position: number, length: number): number {
  return Math.max(0, position + length - size);
}

/** The node counter that counts writes refused by a directory quota. */
export const QUOTA_REFUSALS_COUNTER = 'weir_files_quota_refused';

/** A listener that logs each refusal as a warning on the node and counts it in {@link QUOTA_REFUSALS_COUNTER}. */
export function quotaReporter(host: Pick<HostContext, 'log' | 'counterAdd'>): QuotaListener {
  return ({ grant, path, maxBytes, usedBytes, growthBytes }) => {
    host.counterAdd(QUOTA_REFUSALS_COUNTER, 1n);
    host.log('warn', `host: write to ${path} refused with errno 19 (dquot): the directory granted as ${grant.as} holds ${usedBytes} bytes and the write would add ${growthBytes}, past its "maxBytes" of ${maxBytes}; raise "maxBytes" on the grant, or have the plugin remove files`);
  };
}
