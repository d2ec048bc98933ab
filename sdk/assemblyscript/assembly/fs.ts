// Files in the directories the node grants, through WASI preview 1:
//
//   "capabilities": { "filesystem": [{ "dir": "lookup", "as": "/lookup", "mode": "ro" }] }
//
// Paths are the plugin's view: "/lookup/table.csv" is table.csv in the granted
// folder. A plugin that uses any of these functions imports WASI, so the host
// refuses it at load unless its node grants at least one directory. Failures
// return null / false and leave the WASI errno in `fsErrno()`:
// 44 no such file, 76 outside every granted directory, 69 the grant is
// read-only, 20 exists, 54 not a directory, 31 is a directory.
@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: u32, out: usize): u16;
@external("wasi_snapshot_preview1", "fd_prestat_dir_name")
declare function fd_prestat_dir_name(fd: u32, path: usize, len: usize): u16;
@external("wasi_snapshot_preview1", "path_open")
declare function path_open(dirFd: u32, dirflags: u32, path: usize, pathLen: usize, oflags: u16, rightsBase: u64, rightsInheriting: u64, fdflags: u16, out: usize): u16;
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, count: usize, out: usize): u16;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, count: usize, out: usize): u16;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_readdir")
declare function fd_readdir(fd: u32, buf: usize, len: usize, cookie: u64, out: usize): u16;
@external("wasi_snapshot_preview1", "path_unlink_file")
declare function path_unlink_file(dirFd: u32, path: usize, pathLen: usize): u16;
@external("wasi_snapshot_preview1", "path_create_directory")
declare function path_create_directory(dirFd: u32, path: usize, pathLen: usize): u16;

const RIGHT_READ: u64 = 1 << 1;
const RIGHT_WRITE: u64 = 1 << 6;
const RIGHT_READDIR: u64 = 1 << 14;
const O_CREAT: u16 = 1;
const O_DIRECTORY: u16 = 2;
const O_TRUNC: u16 = 8;
const FD_APPEND: u16 = 1;
const ERRNO_NOTCAPABLE: u16 = 76;

let lastErrno: u16 = 0;
let preopenNames: string[] | null = null;

/** The WASI errno of the last failed call here (0 after a success). */
export function fsErrno(): u16 {
  return lastErrno;
}

/** The whole file, or null. */
export function readFile(path: string): Uint8Array | null {
  const fd = open(path, 0, RIGHT_READ, 0);
  if (fd < 0) return null;
  let data = new Uint8Array(0);
  const chunk = new Uint8Array(65536);
  for (;;) {
    const read = transfer(<u32>fd, chunk, false);
    if (read < 0) {
      fd_close(<u32>fd);
      return fail<Uint8Array | null>(<u16>-read, null);
    }
    if (read == 0) break;
    const grown = new Uint8Array(data.length + read);
    grown.set(data);
    grown.set(chunk.subarray(0, read), data.length);
    data = grown;
  }
  fd_close(<u32>fd);
  lastErrno = 0;
  return data;
}

/** Creates or replaces the file with `data`. */
export function writeFile(path: string, data: Uint8Array): bool {
  return writeAll(open(path, O_CREAT | O_TRUNC, RIGHT_WRITE, 0), data);
}

/** Adds `data` at the end of the file, creating it if needed. */
export function appendFile(path: string, data: Uint8Array): bool {
  return writeAll(open(path, O_CREAT, RIGHT_WRITE, FD_APPEND), data);
}

/** The names in a directory (sorted), or null. */
export function listDir(path: string): string[] | null {
  const fd = open(path, O_DIRECTORY, RIGHT_READDIR, 0);
  if (fd < 0) return null;
  const names = new Array<string>(0);
  const buffer = new Uint8Array(4096);
  const used = new ArrayBuffer(4);
  let cookie: u64 = 0;
  for (;;) {
    const status = fd_readdir(<u32>fd, buffer.dataStart, buffer.length, cookie, changetype<usize>(used));
    if (status != 0) {
      fd_close(<u32>fd);
      return fail<string[] | null>(status, null);
    }
    const size = <i32>load<u32>(changetype<usize>(used));
    let at = 0;
    let whole = 0;
    while (at + 24 <= size) {
      const nameLength = <i32>load<u32>(buffer.dataStart + at + 16);
      if (at + 24 + nameLength > size) break;
      cookie = load<u64>(buffer.dataStart + at);
      names.push(String.UTF8.decodeUnsafe(buffer.dataStart + at + 24, nameLength));
      at += 24 + nameLength;
      whole = at;
    }
    // A buffer that was not filled holds the last entries.
    if (size < buffer.length || whole == 0) break;
  }
  fd_close(<u32>fd);
  lastErrno = 0;
  return names;
}

/** Deletes a file. */
export function removeFile(path: string): bool {
  const at = locate(path);
  if (at === null) return false;
  const rest = String.UTF8.encode(at.rest);
  return done(path_unlink_file(at.fd, changetype<usize>(rest), rest.byteLength));
}

/** Creates a directory. */
export function makeDir(path: string): bool {
  const at = locate(path);
  if (at === null) return false;
  const rest = String.UTF8.encode(at.rest);
  return done(path_create_directory(at.fd, changetype<usize>(rest), rest.byteLength));
}

class Located {
  constructor(public fd: u32, public rest: string) {}
}

/** The granted directory holding `path` (longest match) and the path inside it. */
function locate(path: string): Located | null {
  const names = preopens();
  let best = -1;
  let bestLength = -1;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const inside = path == name || name == "/" || path.startsWith(name.endsWith("/") ? name : name + "/");
    if (inside && name.length > bestLength) {
      best = i;
      bestLength = name.length;
    }
  }
  if (best < 0) return fail<Located | null>(ERRNO_NOTCAPABLE, null);
  let rest = path.slice(bestLength);
  while (rest.startsWith("/")) rest = rest.slice(1);
  return new Located(3 + <u32>best, rest.length == 0 ? "." : rest);
}

/** The guest paths of the granted directories, by descriptor (3, 4, ...). */
function preopens(): string[] {
  if (preopenNames !== null) return preopenNames!;
  const names = new Array<string>(0);
  const prestat = new ArrayBuffer(8);
  for (let fd: u32 = 3; fd_prestat_get(fd, changetype<usize>(prestat)) == 0; fd++) {
    const length = load<u32>(changetype<usize>(prestat) + 4);
    const name = new ArrayBuffer(<i32>length);
    fd_prestat_dir_name(fd, changetype<usize>(name), length);
    names.push(String.UTF8.decode(name));
  }
  preopenNames = names;
  return names;
}

function open(path: string, oflags: u16, rights: u64, fdflags: u16): i32 {
  const at = locate(path);
  if (at === null) return -1;
  const rest = String.UTF8.encode(at.rest);
  const opened = new ArrayBuffer(4);
  const status = path_open(at.fd, 1, changetype<usize>(rest), rest.byteLength, oflags, rights, rights, fdflags, changetype<usize>(opened));
  if (status != 0) return fail<i32>(status, -1);
  return <i32>load<u32>(changetype<usize>(opened));
}

function writeAll(fd: i32, data: Uint8Array): bool {
  if (fd < 0) return false;
  let at = 0;
  while (at < data.length) {
    const written = transfer(<u32>fd, data.subarray(at), true);
    if (written < 0) {
      fd_close(<u32>fd);
      return fail<bool>(<u16>-written, false);
    }
    at += written;
  }
  fd_close(<u32>fd);
  lastErrno = 0;
  return true;
}

/** Reads into or writes from `bytes` once: the count, or minus the errno. */
function transfer(fd: u32, bytes: Uint8Array, write: bool): i32 {
  const iov = new ArrayBuffer(8);
  store<u32>(changetype<usize>(iov), <u32>bytes.dataStart);
  store<u32>(changetype<usize>(iov) + 4, <u32>bytes.length);
  const count = new ArrayBuffer(4);
  const status = write
    ? fd_write(fd, changetype<usize>(iov), 1, changetype<usize>(count))
    : fd_read(fd, changetype<usize>(iov), 1, changetype<usize>(count));
  return status != 0 ? -<i32>status : <i32>load<u32>(changetype<usize>(count));
}

function done(status: u16): bool {
  lastErrno = status;
  return status == 0;
}

function fail<T>(errno: u16, value: T): T {
  lastErrno = errno;
  return value;
}
