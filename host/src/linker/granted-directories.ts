/**
 * Directory grants (`"capabilities": {"filesystem": [...]}`) and the one rule
 * every file access obeys: a path the plugin names must stay inside the
 * granted folder, symbolic links included. Shared by the WASI preview 1 file
 * functions of core modules (PreopenFilesystem) and the `weir:plugin/files`
 * interface of components (GrantedFiles). Failures are WASI errno values.
 */
import * as fs from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { WeirError, messageOf } from '../errors/errors.js';
import type { PreopenGrant } from '../contract/grants.js';


/** The WASI errno values used here. */
export const ERRNO = {
  success: 0, acces: 2, badf: 8, dquot: 19, exist: 20, fbig: 22, inval: 28, io: 29, isdir: 31, mfile: 33, noent: 44, nospc: 51, nosys: 52,
  notdir: 54, notempty: 55, perm: 63, rofs: 69, notcapable: 76,
} as const;

const NODE_ERRNO: Readonly<Record<string, number>> = {
  ENOENT: ERRNO.noent, EEXIST: ERRNO.exist, EISDIR: ERRNO.isdir, ENOTDIR: ERRNO.notdir, EACCES: ERRNO.acces, EPERM: ERRNO.perm,
  ENOTEMPTY: ERRNO.notempty, EMFILE: ERRNO.mfile, ENOSPC: ERRNO.nospc, EROFS: ERRNO.rofs, EINVAL: ERRNO.inval, EBADF: ERRNO.badf,
  EFBIG: ERRNO.fbig, EDQUOT: ERRNO.dquot,
};

/** The errno of a Node file-system error. */
export function errnoOf(error: unknown): number {
  return NODE_ERRNO[(error as { code?: string }).code ?? ''] ?? ERRNO.io;
}

/** A refusal carrying its errno (caught at the import boundary). */
export class Errno {
  constructor(readonly value: number) {}
}

/** A grant with its folder's real path (links resolved): the boundary every path is checked against. */
export interface OpenGrant {
  readonly grant: PreopenGrant;
  readonly root: string;
}

/**
 * Opens a grant: resolves its folder once.
 *
 * @throws WeirError `WEIR_PLUGIN_LOAD_FAILED` when the folder is gone.
 */
export function openGrant(grant: PreopenGrant): OpenGrant {
  try {
    return { grant, root: fs.realpathSync(grant.dir) };
  } catch (error) {
    throw new WeirError('WEIR_PLUGIN_LOAD_FAILED', `granted directory ${grant.dir} (as ${grant.as}) cannot be opened: ${messageOf(error)}`, { dir: grant.dir });
  }
}

/**
 * The host path of `path` (relative) under `base`, a folder inside `root`.
 *
 * @throws Errno `notcapable` when it leads out of `root`: absolute, through
 *   `..`, or through a symbolic link (a dangling last link included).
 */
export function confine(root: string, base: string, path: string): string {
  if (isAbsolute(path) || path.includes('\0')) throw new Errno(ERRNO.notcapable);
  const target = resolve(base, path);
  requireInside(root, target);
  // A link as the last part may dangle (a write would create its target): follow the chain, every hop inside.
  let hop = target;
  for (let hops = 0; ; hops++) {
    const link = fs.lstatSync(hop, { throwIfNoEntry: false });
    if (!link?.isSymbolicLink()) break;
    if (hops === MAX_LINK_HOPS) throw new Errno(ERRNO.notcapable);
    hop = resolve(hop, '..', fs.readlinkSync(hop));
    requireInside(root, hop);
  }
  return target;
}

/** Symbolic links followed before a path is refused (the usual ELOOP limit). */
const MAX_LINK_HOPS = 40;

/** Throws `notcapable` unless `path` is inside `root`, by name and (its deepest existing ancestor) with links resolved. */
function requireInside(root: string, path: string): void {
  if (!isInside(root, path)) throw new Errno(ERRNO.notcapable);
  let existing = path;
  while (!fs.existsSync(existing) && existing !== root) existing = resolve(existing, '..');
  if (!isInside(root, fs.realpathSync(existing))) throw new Errno(ERRNO.notcapable);
}

/**
 * Throws `rofs` unless the grant may write. Callers confine the path first,
 * so a path leading out of a read-only grant fails with `notcapable`, as out
 * of a read-write one, in both file interfaces.
 */
export function requireWritable(grant: PreopenGrant): void {
  if (grant.mode !== 'rw') throw new Errno(ERRNO.rofs);
}

/** Whether host path `path` is `root` or inside it, by name. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
