/**
 * The byte quota of a read-write directory grant (`"maxBytes"`): the most
 * the entries under the granted folder may cost in total, what was there
 * before the run included. A regular file costs its size plus
 * {@link ENTRY_BYTES}; a directory, link or other entry costs
 * {@link ENTRY_BYTES} (about the block each takes on disk), so empty files
 * and directories are not free. Both ways a plugin writes (WASI preview 1
 * for core modules, `weir:plugin/files` for components) ask
 * {@link DirectoryQuota.reserve} before a change that makes the folder
 * larger; a change that would pass the quota is refused whole, with errno
 * `dquot`, and reported through the `exceeded` callback (the loaders log it
 * and count it). Writes, creations, truncations, removals and renames are
 * all recorded as they happen.
 *
 * How the count stays right: every quota on the same folder (by real path)
 * in one thread shares one {@link DirectoryUsage} from a
 * {@link DirectoryUsages} registry, so parallel instances and other nodes in
 * that thread see each other's writes at once and together stay within the
 * quota. A change is also recorded in every other folder of the registry
 * that contains it (nested grants). What the thread cannot see (instances in
 * other threads, cpu mode `worker`; other processes) is found by measuring
 * the folder again (walking it, links not followed): before a write when
 * what this thread added since the last measure (less what it removed),
 * that write included, would pass a sixteenth of the quota (so each other thread can take the folder
 * past the quota by at most a sixteenth of it), and before a refusal, but
 * then at most once per {@link REFUSAL_REMEASURE_MS} and never more than a
 * tenth of the time (a plugin retrying a refused write cannot keep the host
 * walking a large folder).
 */
import * as fs from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { ERRNO, Errno, isInside } from './granted-directories.js';
import type { PreopenGrant } from '../contract/grants.js';
import { DEFAULT_GRANT_MAX_BYTES } from '../contract/grants.js';
import type { HostContext } from './host-context.js';


/** What each file, directory, link or other entry under a grant costs besides a file's bytes. */
export const ENTRY_BYTES = 4096;

/** The shortest time between two measures a refusal triggers. */
export const REFUSAL_REMEASURE_MS = 1000;

/** A write refused by a quota. */
export interface QuotaExceeded {
  readonly grant: PreopenGrant;
  /** The file, as the plugin sees it (under the grant's `as`). */
  readonly path: string;
  readonly maxBytes: number;
  /** What the folder cost when the write was refused. */
  readonly usedBytes: number;
  /** What the write would have added. */
  readonly growthBytes: number;
}

/** Called for every refused write. */
export type QuotaListener = (refusal: QuotaExceeded) => void;

/** How a registry measures a folder and tells time; tests replace them. */
export interface UsageOptions {
  /** What the entries under a folder cost (default {@link costUnder}, the folder itself not counted). */
  measure?: (root: string) => number;
  /** Milliseconds, monotonic (default `performance.now`). */
  now?: () => number;
}

/** The cost of one folder, as the quotas of one thread see it. */
export class DirectoryUsage {
  readonly root: string;
  readonly #measure: () => number;
  readonly #now: () => number;
  /** Cost at the last measure plus what was recorded since (`undefined`: not measured yet). */
  #bytes: number | undefined;
  /** What this thread added (net: removals count against it) since the last measure. */
  #grownSinceMeasure = 0;
  #measuredAt = Number.NEGATIVE_INFINITY;
  #measureMs = 0;

  constructor(root: string, measure: () => number, now: () => number) {
    this.root = root;
    this.#measure = measure;
    this.#now = now;
  }

  /** What the folder costs, measuring it the first time. */
  bytes(): number {
    if (this.#bytes === undefined) this.measure();
    return this.#bytes!;
  }

  /** What was recorded since the last measure, net. */
  get grownSinceMeasure(): number {
    return this.#grownSinceMeasure;
  }

  /** Walks the folder. */
  measure(): void {
    const start = this.#now();
    this.#bytes = this.#measure();
    this.#measuredAt = this.#now();
    this.#measureMs = this.#measuredAt - start;
    this.#grownSinceMeasure = 0;
  }

  /** Whether a refusal may measure again now (see the module comment). */
  mayMeasureForRefusal(): boolean {
    return this.#now() - this.#measuredAt >= Math.max(REFUSAL_REMEASURE_MS, 10 * this.#measureMs);
  }

  /** Records a change of `delta` bytes (negative: freed); ignored until the first measure. */
  record(delta: number): void {
    if (this.#bytes === undefined) return;
    this.#bytes += delta;
    this.#grownSinceMeasure += delta;
  }
}

/**
 * The {@link DirectoryUsage} of each granted folder in one thread, by real
 * path. One per thread, owned by the thread's Engine (`PluginModule.engine`),
 * since the folders it mirrors are shared by the whole thread: every
 * instance the thread runs counts its writes in the same one. Holds them weakly: a usage lives while a quota holds it, and the
 * next quota after that measures afresh.
 */
export class DirectoryUsages {
  readonly #usages = new Map<string, WeakRef<DirectoryUsage>>();
  readonly #measure: (root: string) => number;
  readonly #now: () => number;

  constructor(options: UsageOptions = {}) {
    this.#measure = options.measure ?? ((root) => costUnder(root) - ENTRY_BYTES);
    this.#now = options.now ?? (() => performance.now());
  }

  /** The usage of the folder at real path `root`. */
  of(root: string): DirectoryUsage {
    const live = this.#usages.get(root)?.deref();
    if (live) return live;
    const usage = new DirectoryUsage(root, () => this.#measure(root), this.#now);
    this.#usages.set(root, new WeakRef(usage));
    return usage;
  }

  /** Records a change of `delta` bytes at host path `path` in every folder that contains it. */
  record(path: string, delta: number): void {
    if (delta === 0) return;
    for (const [root, ref] of this.#usages) {
      const usage = ref.deref();
      if (!usage) this.#usages.delete(root);
      else if (isInside(root, path)) usage.record(delta);
    }
  }
}

/** The quota of one grant, as one instance sees it. */
export class DirectoryQuota {
  readonly #grant: PreopenGrant;
  readonly #root: string;
  readonly #maxBytes: number;
  readonly #exceeded: QuotaListener | undefined;
  readonly #usages: DirectoryUsages;
  readonly #usage: DirectoryUsage;

  constructor(grant: PreopenGrant, root: string, exceeded: QuotaListener | undefined, usages: DirectoryUsages) {
    this.#grant = grant;
    this.#root = root;
    this.#maxBytes = grant.maxBytes ?? DEFAULT_GRANT_MAX_BYTES;
    this.#exceeded = exceeded;
    this.#usages = usages;
    this.#usage = usages.of(root);
  }

  /** The registry changes are recorded in (the same for every quota of the thread). */
  get usages(): DirectoryUsages {
    return this.#usages;
  }

  /**
   * Accounts for a change that adds `growth` bytes (negative: frees) at
   * `target` (a host path under the folder).
   *
   * @throws Errno `dquot` when it would take the folder past the quota (nothing is accounted).
   */
  reserve(growth: number, target: string): void {
    this.admit(growth, target);
    this.#usages.record(target, growth);
  }

  /**
   * Checks that adding `growth` bytes at `target` keeps the folder within
   * the quota, recording nothing (the caller records the change).
   *
   * @throws Errno `dquot` when it would not.
   */
  admit(growth: number, target: string): void {
    if (growth <= 0) return;
    const usage = this.#usage;
    if (usage.grownSinceMeasure + growth > this.#maxBytes / 16) usage.measure();
    if (usage.bytes() + growth <= this.#maxBytes) return;
    if (usage.mayMeasureForRefusal()) {
      usage.measure();
      if (usage.bytes() + growth <= this.#maxBytes) return;
    }
    const path = posix.join(this.#grant.as, relative(this.#root, target).split(sep).join('/'));
    this.#exceeded?.({ grant: this.#grant, path, maxBytes: this.#maxBytes, usedBytes: usage.bytes(), growthBytes: growth });
    throw new Errno(ERRNO.dquot);
  }
}

/**
 * What the entry at `path` costs under a quota, everything under it
 * included: {@link ENTRY_BYTES} per entry plus the size of each regular
 * file (links not followed; what vanishes meanwhile costs 0).
 */
export function costUnder(path: string): number {
  const top = fs.lstatSync(path, { throwIfNoEntry: false });
  if (!top) return 0;
  if (!top.isDirectory()) return entryCost(top);
  let total = ENTRY_BYTES;
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
      total += ENTRY_BYTES;
      if (entry.isDirectory()) pending.push(child);
      else if (entry.isFile()) total += fs.lstatSync(child, { throwIfNoEntry: false })?.size ?? 0;
    }
  }
  return total;
}

/** What one entry costs by its stat (a directory's contents not included); 0 for none. */
export function entryCost(stat: fs.Stats | undefined): number {
  if (!stat) return 0;
  return ENTRY_BYTES + (stat.isFile() ? stat.size : 0);
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
    host.log('warn', `host: write to ${path} refused with errno 19 (dquot): the directory granted as ${grant.as} holds ${usedBytes} bytes (each file and directory counts ${ENTRY_BYTES} besides its content) and the write would add ${growthBytes}, past its "maxBytes" of ${maxBytes}; raise "maxBytes" on the grant, or have the plugin remove files`);
  };
}
