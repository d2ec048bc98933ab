/**
 * On-disk cache of components transpiled by jco, keyed by the sha256 of the
 * component bytes. A hit skips transpilation entirely (it costs hundreds of
 * milliseconds for a QuickJS component); a miss transpiles with
 * `instantiation: 'async'` so that the host compiles every core module itself.
 *
 * Each entry is a folder `<dir>/<sha256>/` holding the generated JS, the core
 * modules and `entry.json`. Entries are written to a temporary folder and
 * renamed into place, so a crash or a concurrent run never leaves half an entry.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { transpileBytes } from '@bytecodealliance/jco-transpile';
import { WeirError, messageOf } from '../errors/errors.js';

/** What the cache knows of one transpiled component. */
export interface TranspiledComponent {
  /** Folder of the entry. */
  dir: string;
  /** The generated ES module exporting `instantiate(getCoreModule, imports)`. */
  jsFile: string;
  /** Interfaces the component imports, as jco names them (`weir:plugin/log`). */
  imports: string[];
  /** Names of the component's top-level exports. */
  exports: string[];
  /** True when the entry was already on disk. */
  cacheHit: boolean;
  /** Milliseconds spent transpiling (0 on a hit). */
  transpileMs: number;
}

interface EntryFile {
  jsFile: string;
  imports: string[];
  exports: string[];
}

const ENTRY_FILE = 'entry.json';
const MODULE_NAME = 'plugin';

/** A transpile cache rooted at one folder. */
export class TranspileCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Returns the transpiled component for `bytes`, transpiling on a miss. */
  async get(bytes: Uint8Array, sha256: string, file: string): Promise<TranspiledComponent> {
    const dir = join(this.dir, sha256);
    const cached = await readEntry(dir);
    if (cached) return { ...cached, dir, jsFile: join(dir, cached.jsFile), cacheHit: true, transpileMs: 0 };

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
    const transpileMs = performance.now() - started;
    const entry: EntryFile = {
      jsFile: `${MODULE_NAME}.js`,
      imports: result.imports,
      exports: result.exports.map(([name]) => name),
    };
    const staging = join(this.dir, `.tmp-${sha256}-${randomBytes(4).toString('hex')}`);
    await mkdir(staging, { recursive: true });
    for (const [name, content] of Object.entries(result.files)) {
      if (name.endsWith('.d.ts')) continue;
      await writeFile(join(staging, name), content);
    }
    await writeFile(join(staging, ENTRY_FILE), JSON.stringify(entry));
    try {
      await rename(staging, dir);
    } catch {
      // Another process wrote the same entry first; theirs is identical.
      await rm(staging, { recursive: true, force: true });
    }
    return { ...entry, dir, jsFile: join(dir, entry.jsFile), cacheHit: false, transpileMs };
  }
}

async function readEntry(dir: string): Promise<EntryFile | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, ENTRY_FILE), 'utf8')) as EntryFile;
  } catch {
    return undefined;
  }
}
