/**
 * Tells a core WebAssembly module from a component by its 8-byte header:
 * both start with `\0asm`; a core module continues with version 1, layer 0
 * (`01 00 00 00`), a component with its own version and layer 1 (`xx 00 01 00`).
 */
import { WeirError } from '../errors/errors.js';

/** What a `.wasm` file holds. */
export type BinaryKind = 'module' | 'component';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * @throws WeirError `WEIR_PLUGIN_INVALID_BINARY` when the bytes are not WebAssembly.
 */
export function detectBinaryKind(bytes: Uint8Array, file: string): BinaryKind {
  if (bytes.byteLength < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new WeirError(
      'WEIR_PLUGIN_INVALID_BINARY',
      `${file} is not a WebAssembly binary (it does not start with "\\0asm"); build the plugin with \`host build\` or check the path`,
      { file },
    );
  }
  const layer = bytes[6]! | (bytes[7]! << 8);
  if (layer === 0) return 'module';
  if (layer === 1) return 'component';
  throw new WeirError('WEIR_PLUGIN_INVALID_BINARY', `${file} has an unknown WebAssembly layer ${layer}`, { file });
}
