import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, WeirError, hasCode } from '../../src/errors/errors.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { GUEST_FAULT_MARKER, GuestFaultSlot, guestFaultOf } from '../../src/errors/guest-fault.js';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { componentImports } from '../../src/linker/component-imports.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { ProcessorInstance } from '../../src/contract/plugin.js';
import { DirectoryUsages } from '../../src/linker/directory-quota.js';

describe('error codes', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../../docs/errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(WEIR_[A-Z_]+)` \|/gm)].map((m) => m[1]);

  it('documents every code in docs/errors.md, and nothing else', () => {
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('keeps code and details through JSON, so codes survive serialization', () => {
    const error = new WeirError('WEIR_PLUGIN_TRAP', 'boom', { node: 'n' });
    const copy = JSON.parse(JSON.stringify(error)) as unknown;
    expect(hasCode(copy, 'WEIR_PLUGIN_TRAP')).toBe(true);
    expect(copy).toEqual({ code: 'WEIR_PLUGIN_TRAP', message: 'boom', details: { node: 'n' } });
  });
});

describe('guest fault reports', () => {
  it('take only lines that start with the marker, and carry no control characters but tab and newline', () => {
    expect(guestFaultOf('error', 'panicked at src/lib.rs:1:1: boom')).toBeUndefined();
    expect(guestFaultOf('error', `${GUEST_FAULT_MARKER}panicked: boom`)).toBe('panicked: boom');
    expect(guestFaultOf('error', `${GUEST_FAULT_MARKER}a\u001b[2Jb\u0000c\td\ne\u009bf`)).toBe('a\uFFFD[2Jb\uFFFDc\td\ne\uFFFDf');
  });

  it('take the marker only at level error and at the start of the message: elsewhere it is ordinary text', () => {
    for (const level of ['trace', 'debug', 'info', 'warn'] as const) expect(guestFaultOf(level, `${GUEST_FAULT_MARKER}forged`), level).toBeUndefined();
    expect(guestFaultOf('error', `note: ${GUEST_FAULT_MARKER}forged`)).toBeUndefined();
  });

  /** A host whose plugin log lines land in `lines`. */
  function loggingHost() {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const host = createHostContext({
      node: 'n', plugin: 'p', config: {}, logger, state: new MemoryKeyedState(),
      metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
    });
    return { host, lines };
  }

  it('a component\'s forged marker (another level, mid-line) is logged as it is, not kept as its fault', () => {
    const { host, lines } = loggingHost();
    const faults = new GuestFaultSlot();
    const { log } = componentImports(host, new DirectoryUsages(), faults)['weir:plugin/log'] as { log: (level: string, message: string) => void };
    log('warn', `${GUEST_FAULT_MARKER}forged at warn`);
    log('error', `mid ${GUEST_FAULT_MARKER}forged mid-line`);
    expect(faults.take()).toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual([`${GUEST_FAULT_MARKER}forged at warn`, `mid ${GUEST_FAULT_MARKER}forged mid-line`]);
    log('error', `${GUEST_FAULT_MARKER}a real report`);
    expect(faults.take()).toBe('a real report');
    expect(lines).toHaveLength(2);
  });

  it('a core module\'s forged marker at level warn is logged, and its trap carries no forged fault', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-forged-fault-'));
    const data = (text: string) => [...new TextEncoder().encode(text)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
    const forged = `${GUEST_FAULT_MARKER}forged`;
    const bytes = new TextEncoder().encode(forged).byteLength;
    const file = join(dir, 'forge.wasm');
    await writeFile(file, await parse(`(module
      (import "weir" "log" (func $log (param i32 i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "${data(forged)}")
      (func (export "weir_abi_version") (result i32) i32.const 1)
      (func (export "weir_alloc") (param i32) (result i32) i32.const 1024)
      (func (export "weir_output_ptr") (result i32) i32.const 0)
      (func (export "weir_output_len") (result i32) i32.const 0)
      (func (export "weir_configure") (param i32 i32) (result i32) i32.const 0)
      (func (export "weir_process") (param i32 i32) (result i32)
        (call $log (i32.const 3) (i32.const 16) (i32.const ${bytes}))
        unreachable))`));
    const { host, lines } = loggingHost();
    const module = await new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) }).load(file);
    const plugin = (await instantiate(module, 'processor', host, instanceLimits({ ...DEFAULT_LIMITS, cpu: { mode: 'none' } }))) as ProcessorInstance;
    const outcome = await Promise.resolve().then(() => plugin.process([])).then(() => undefined, (error: unknown) => error as WeirError);
    plugin.close();
    expect(outcome?.code).toBe('WEIR_PLUGIN_TRAP');
    expect(outcome!.details.guest).toBeUndefined();
    expect(lines.map((l) => l.msg)).toEqual([forged]);
  });
});
