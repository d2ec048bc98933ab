/**
 * On-disk cache of components transpiled by jco, keyed by the sha256 of the
 * component bytes. A hit skips transpilation entirely (it costs hundreds of
 * milliseconds for a QuickJS component); a miss transpiles with
 * `instantiation: 'async'` so that the host compiles every core module itself.
 *
 * Each entry is a folder `<dir>/<sha256>/` holding the generated JS, the core
 * modules and `entry.json` (what the component imports and exports, and the
 * WIT types of the exports checked beyond their names, engine/export-types.ts).
 * `entry.json` carries its format: an entry of another format (written by
 * an older host, without those types) is no entry, and is transpiled again
 * and replaced. Entries are written to a temporary folder and
 * renamed into place, so a crash or a concurrent run never leaves half an entry.
 * When the rename finds the entry already there (another process won the
 * race), that entry is used once it proves complete; any other failure to
 * write the cache is logged and costs only the cache: the staging folder is
 * removed and the run goes on from the transpiled files held in memory (no
 * folder outside the cache is made, so nothing is left behind).
 *
 * The cache is bounded (`maxBytes`, default 256 MiB or `$WEIR_CACHE_MAX_MB`):
 * after each new entry, the least recently used entries (by the modification
 * time of their `entry.json`, refreshed on every hit) are removed until the
 * total fits, never the entry just written. A process still running an
 * evicted build keeps what it compiled; it reads the entry again only for a
 * new instance under new limits, and a {@link TranspiledComponent} that finds
 * its entry gone then creates it again (transpiling again), so eviction costs
 * time, never a failure. The bound should hold many builds (the default holds
 * about sixty QuickJS plugins).
 */
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { transpileBytes } from '@bytecodealliance/jco-transpile';
import { WeirError, messageOf } from '../errors/errors.js';
import { readExportTypes } from './export-types.js';

/** Where a transpiled component's files are: its entry folder, or memory when the cache could not be written. */
type Location = { dir: string } | { files: ReadonlyMap<string, Uint8Array> };

/** What {@link TranspileCache.get} found or made, before it is wrapped. */
interface Obtained {
  entry: EntryFile;
  /** Names of the core modules (`*.wasm`) among the files. */
  coreModules: string[];
  location: Location;
  cacheHit: boolean;
  transpileMs: number;
}

/**
 * One transpiled component: what it imports and exports, and its files.
 * Files are read from the cache entry; when the entry was evicted since
 * (by this process or another sharing the cache), it is created again
 * (transpiled again) rather than failing.
 */
export class TranspiledComponent {
  /** Interfaces the component imports, as jco names them (`weir:plugin/log`). */
  readonly imports: string[];
  /** Names of the component's top-level exports. */
  readonly exports: string[];
  /** WIT function types of the exports the host checks beyond their names (engine/export-types.ts), by WIT name. */
  readonly exportTypes: Readonly<Record<string, string>>;
  /** True when the entry was already on disk. */
  readonly cacheHit: boolean;
  /** Milliseconds spent transpiling (0 on a hit). */
  readonly transpileMs: number;
  /** Path of the generated ES module (exporting `instantiate(getCoreModule, imports)`) in the entry folder. */
  readonly jsFile: string;
  /** Names of the component's core modules, for {@link read}. */
  readonly coreModules: readonly string[];
  readonly #jsName: string;
  readonly #recreate: () => Promise<Location>;
  #location: Location;
  #recreating: Promise<Location> | undefined;

  /** @internal Made by {@link TranspileCache.get}. */
  constructor(entryDir: string, obtained: Obtained, recreate: () => Promise<Location>) {
    this.imports = obtained.entry.imports;
    this.exports = obtained.entry.exports;
    this.exportTypes = obtained.entry.exportTypes;
    this.cacheHit = obtained.cacheHit;
    this.transpileMs = obtained.transpileMs;
    this.coreModules = obtained.coreModules;
    this.#jsName = obtained.entry.jsFile;
    this.jsFile = join(entryDir, obtained.entry.jsFile);
    this.#location = obtained.location;
    this.#recreate = recreate;
  }

  /** The entry folder, or `undefined` while the files are held in memory (the cache could not be written). */
  get dir(): string | undefined {
    return 'dir' in this.#location ? this.#location.dir : undefined;
  }

  /** The generated JS (see {@link jsFile}). */
  async readJs(): Promise<string> {
    return Buffer.from(await this.read(this.#jsName)).toString('utf8');
  }

  /**
   * A file of the entry (a core module, by the name jco gave it). An entry
   * evicted meanwhile is created again first.
   */
  async read(name: string): Promise<Uint8Array> {
    for (let attempt = 1; ; attempt++) {
      const location = this.#location;
      if ('files' in location) {
        const bytes = location.files.get(name);
        if (bytes === undefined) throw Object.assign(new Error(`ENOENT: the transpiled component has no file ${name}`), { code: 'ENOENT' });
        return bytes;
      }
      try {
        return await readFile(join(location.dir, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 1) throw error;
        // Evicted since it was found: one re-creation, shared by every concurrent reader.
        this.#recreating ??= this.#recreate().finally(() => {
          this.#recreating = undefined;
        });
        this.#location = await this.#recreating;
      }
    }
  }
}

/** Told about a cache write that failed: what (`path`) and why (`cause`). The run goes on without it. */
export type CacheWarning = (details: { path: string; cause: string }, message: string) => void;

/** Settings of a {@link TranspileCache}. */
export interface TranspileCacheOptions {
  /** Most bytes the cache keeps on disk; see {@link defaultCacheMaxBytes}. */
  maxBytes?: number;
  /** Where failed cache writes are reported (default: a process warning). */
  warn?: CacheWarning;
}

interface EntryFile {
  /** {@link ENTRY_FORMAT} when written. */
  format: number;
  jsFile: string;
  imports: string[];
  exports: string[];
  exportTypes: Record<string, string>;
}

const ENTRY_FILE = 'entry.json';
/** The format of `entry.json`; 2 added `exportTypes`. An entry of another format is transpiled again. */
const ENTRY_FORMAT = 2;
const MODULE_NAME = 'plugin';
const STAGING_PREFIX = '.tmp-';
/** A staging folder older than this was left by a crashed process and may be removed. */
const STALE_STAGING_MS = 60 * 60 * 1000;
const DEFAULT_MAX_MB = 256;

/** The cache bound: `$WEIR_CACHE_MAX_MB` mebibytes when set to a positive number, else 256 MiB. */
export function defaultCacheMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mb = Number(env.WEIR_CACHE_MAX_MB);
  return (Number.isFinite(mb) && mb > 0 ? mb : DEFAULT_MAX_MB) * 1024 * 1024;
}

/** A warning through `process.emitWarning`, for callers that pass no logger. */
export const processWarning: CacheWarning = (details, message) => process.emitWarning(`${message}: ${details.path}: ${details.cause}`, 'WeirCacheWarning');

/** A transpile cache rooted at one folder. */
export class TranspileCache {
  readonly dir: string;
  readonly maxBytes: number;
  readonly #warn: CacheWarning;

  constructor(dir: string, options: TranspileCacheOptions = {}) {
    this.dir = dir;
    this.maxBytes = options.maxBytes ?? defaultCacheMaxBytes();
    this.#warn = options.warn ?? processWarning;
  }

  /** Returns the transpiled component for `bytes`, transpiling on a miss. */
  async get(bytes: Uint8Array, sha256: string, file: string): Promise<TranspiledComponent> {
    const obtained = await this.#obtain(bytes, sha256, file);
    return new TranspiledComponent(join(this.dir, sha256), obtained, async () => (await this.#obtain(bytes, sha256, file)).location);
  }

  async #obtain(bytes: Uint8Array, sha256: string, file: string): Promise<Obtained> {
    const dir = join(this.dir, sha256);
    const cached = await readEntry(dir);
    if (cached) {
      await touch(dir);
      const coreModules = await readdir(dir).then((names) => names.filter(isCoreModule), () => []);
      return { entry: cached, coreModules, location: { dir }, cacheHit: true, transpileMs: 0 };
    }

    const started = performance.now();
    let result: Awaited<ReturnType<typeof transpileBytes>>;
    try {
      // Loaded on the first miss only: a warm start never pays for jco.
      const { transpileBytes } = await import('@bytecodealliance/jco-transpile');
      result = await transpileBytes(bytes, {
        name: MODULE_NAME,
        instantiation: 'async',
        emitTypescriptDeclarations: false,
        wasiShim: false,
      });
    } catch (error) {
      throw new WeirError('WEIR_PLUGIN_LOAD_FAILED', `jco could not transpile ${file}: ${messageOf(error)}`, { file }, { cause: error });
    }
    const exports = result.exports.map(([name]) => name);
    let exportTypes: Record<string, string>;
    try {
      exportTypes = await readExportTypes(bytes, exports);
    } catch (error) {
      throw new WeirError('WEIR_PLUGIN_LOAD_FAILED', `cannot read the WIT of ${file}: ${messageOf(error)}`, { file }, { cause: error });
    }
    const transpileMs = performance.now() - started;
    const entry: EntryFile = { format: ENTRY_FORMAT, jsFile: `${MODULE_NAME}.js`, imports: result.imports, exports, exportTypes };
    const files = Object.entries(result.files).filter(([name]) => !name.endsWith('.d.ts'));
    const stored = await this.#store(dir, sha256, files, entry);
    if (stored) await this.evict(dir);
    const location: Location = stored ? { dir } : { files: new Map(files) };
    return { entry, coreModules: files.map(([name]) => name).filter(isCoreModule), location, cacheHit: false, transpileMs };
  }

  /**
   * Writes an entry and renames it into place; true when `dir` holds it.
   * False when the cache cannot be written (the failure is reported through
   * `warn` and the staging folder removed): the caller keeps the files in memory.
   */
  async #store(dir: string, sha256: string, files: Array<[string, Uint8Array]>, entry: EntryFile): Promise<boolean> {
    const staging = join(this.dir, `${STAGING_PREFIX}${sha256}-${randomBytes(4).toString('hex')}`);
    const giveUp = async (path: string, cause: string, message: string): Promise<false> => {
      this.#warn({ path, cause }, `transpile cache: ${message}; running from memory instead`);
      await rm(staging, { recursive: true, force: true }).catch(() => {});
      return false;
    };
    try {
      await writeEntry(staging, files, entry);
    } catch (error) {
      return giveUp(staging, messageOf(error), 'cannot write an entry');
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await rename(staging, dir);
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') return giveUp(dir, messageOf(error), 'cannot move a new entry into place');
        // Another process wrote the same entry first: theirs is identical, once complete.
        if (await isComplete(dir)) {
          await rm(staging, { recursive: true, force: true });
          return true;
        }
        if (attempt > 1) return giveUp(dir, 'an incomplete entry is in the way', 'cannot replace an incomplete entry');
        // An incomplete entry (a folder recreated after eviction, or damaged): replace it.
        await rm(dir, { recursive: true, force: true });
      }
    }
  }

  /**
   * Removes the least recently used entries until the cache fits `maxBytes`
   * (`keep`, an entry folder, stays), and staging folders a crashed process
   * left behind. Returns the bytes the cache holds afterwards.
   */
  async evict(keep?: string): Promise<number> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    // Every folder is measured at once: under a busy event loop (a reload while a
    // pipeline runs) each sequential fs call waits a whole turn of the loop.
    const measured = await Promise.all(names.map(async (name) => {
      const dir = join(this.dir, name);
      const bytes = await folderBytes(dir);
      if (name.startsWith(STAGING_PREFIX)) {
        const modified = await stat(dir).then((s) => s.mtimeMs, () => Date.now());
        if (Date.now() - modified <= STALE_STAGING_MS) return { dir, bytes, staging: true };
        await rm(dir, { recursive: true, force: true }).catch(() => {});
        return { dir, bytes: 0, staging: true };
      }
      const usedMs = dir === keep ? 0 : await stat(join(dir, ENTRY_FILE)).then((s) => s.mtimeMs, () => 0);
      return { dir, bytes, usedMs, staging: false };
    }));
    let total = 0;
    const entries: Array<{ dir: string; bytes: number; usedMs: number }> = [];
    for (const { dir, bytes, usedMs, staging } of measured) {
      total += bytes;
      if (!staging && dir !== keep) entries.push({ dir, bytes, usedMs: usedMs ?? 0 });
    }
    entries.sort((a, b) => a.usedMs - b.usedMs);
    for (const entry of entries) {
      if (total <= this.maxBytes) break;
      try {
        await rm(entry.dir, { recursive: true, force: true });
        total -= entry.bytes;
      } catch (error) {
        this.#warn({ path: entry.dir, cause: messageOf(error) }, 'transpile cache: cannot remove an old entry');
      }
    }
    return total;
  }
}

async function writeEntry(folder: string, files: Array<[string, Uint8Array]>, entry: EntryFile): Promise<void> {
  await mkdir(folder, { recursive: true });
  // Written at once, not one after another (see evict).
  await Promise.all(files.map(([name, content]) => writeFile(join(folder, name), content)));
  // entry.json last: its presence says the folder is complete.
  await writeFile(join(folder, ENTRY_FILE), JSON.stringify(entry));
}

async function readEntry(dir: string): Promise<EntryFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, ENTRY_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const entry = JSON.parse(text) as EntryFile;
    // An entry of another format (an older host's, without exportTypes) is no entry either.
    if (entry.format !== ENTRY_FORMAT) return undefined;
    // An entry whose JS went missing is no entry: it is transpiled again and replaced.
    await stat(join(dir, entry.jsFile));
    return entry;
  } catch {
    return undefined;
  }
}

function isCoreModule(name: string): boolean {
  return name.endsWith('.wasm');
}

async function isComplete(dir: string): Promise<boolean> {
  return (await readEntry(dir)) !== undefined;
}

/** Marks an entry as just used (its `entry.json` mtime is the LRU clock); a failure only blurs the order. */
async function touch(dir: string): Promise<void> {
  const now = new Date();
  await utimes(join(dir, ENTRY_FILE), now, now).catch(() => {});
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  const items = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  const sizes = await Promise.all(items.filter((item) => item.isFile()).map((item) => stat(join(item.parentPath, item.name)).then((s) => s.size, () => 0)));
  for (const size of sizes) total += size;
  return total;
}
