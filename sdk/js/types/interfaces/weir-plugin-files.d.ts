declare module 'weir:plugin/files@0.1.0' {
  /**
   * The whole file.
   */
  export function readFile(path: string): Uint8Array;
  /**
   * Creates or replaces the file (grant mode `rw`).
   */
  export function writeFile(path: string, data: Uint8Array): void;
  /**
   * Appends to the file, creating it if needed (grant mode `rw`).
   */
  export function appendFile(path: string, data: Uint8Array): void;
  /**
   * The names in a directory, sorted.
   */
  export function listDir(path: string): Array<string>;
  /**
   * Creates one directory (grant mode `rw`).
   */
  export function makeDir(path: string): void;
  /**
   * Removes a file (grant mode `rw`).
   */
  export function removeFile(path: string): void;
  /**
   * Why an operation failed: the WASI errno (44 no such file, 76 outside
   * every granted directory, 69 the grant is read-only, 20 already exists,
   * 54 not a directory, 31 is a directory, 55 directory not empty, 22 file
   * too large to read) and a message.
   */
  export interface FileError {
    errno: number,
    message: string,
  }
}
