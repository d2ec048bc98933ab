// Which plugins can use keyed state, read from their imports: the example
// plugins that count by key (AssemblyScript core module, Rust and JS
// components) do; AssemblyScript and Rust plugins that keep no state do not
// (a JS component's world imports every host interface, so it always does).
import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { importsKeyedState } from '../../src/linker/state-imports.js';

const plugins = join(import.meta.dirname, '../../../plugins');

describe('importsKeyedState', () => {
  it.each([
    ['count-by-key-as.wasm', true],
    ['count-by-key-rust.wasm', true],
    ['count-by-key-js.wasm', true],
    ['uppercase-as.wasm', false],
    ['uppercase-rust.wasm', false],
  ])('%s: %s', async (file, expected) => {
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const module = await engine.load(join(plugins, file));
    expect(importsKeyedState(module.imports)).toBe(expected);
  });
});
