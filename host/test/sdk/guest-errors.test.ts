/**
 * What a plugin says when it fails must reach the host: the message, type and
 * place of an uncaught JS exception (sdk/js/src/guest-errors.js) and of a Rust
 * panic (sdk/rust/weir/src/fault.rs), in the error, the dead-letter headers and
 * `host test` output, and the error kind a service reported to a core module.
 * Errors out of instantiate and configure name the node.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { createHostContext } from '../../src/linker/host-context.js';
import type { ServiceCaller } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { ProcessorInstance } from '../../src/contract/plugin.js';
import type { StreamRecord } from '../../src/records/record.js';
import { WeirError } from '../../src/errors/errors.js';
import { failure } from '../fixtures/failure.js';
import { main } from '../../src/cli/main.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { runValues } from '../fixtures/run-values.js';

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  // Without a Rust compiler for wasm32 this fails, saying which one to install (as .ci/run does): no silent skip.
  fixtures = await buildFixtures('misbehave-js', 'probe-as', 'panic-rust');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

const record = (value: string): StreamRecord => ({ key: undefined, value: new TextEncoder().encode(value), headers: [], eventTime: undefined });

function hostFor(node: string, callService: ServiceCaller = () => new Uint8Array()) {
  return createHostContext({
    node, plugin: 'p', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() }, callService,
  });
}

async function processor(file: string, node = 'bad', callService?: ServiceCaller): Promise<ProcessorInstance> {
  const module = await new Engine({ cacheDir }).load(join(fixtures, file));
  return (await instantiate(module, 'processor', hostFor(node, callService), instanceLimits(DEFAULT_LIMITS))) as ProcessorInstance;
}


describe('an uncaught JS exception', () => {
  it('reaches the error with its type, message and place, not as a bare "unreachable"', async () => {
    const plugin = await processor('misbehave-js.wasm');
    plugin.configure(JSON.stringify({ mode: 'trap', trigger: 'x' }));
    const error = failure(() => plugin.process([record('ok'), record('x-1')]));
    expect(error.code).toBe('WEIR_PLUGIN_TRAP');
    expect(error.message).toContain('uncaught Error: misbehave: trapped mid-batch');
    expect(error.message).toContain('node "bad"');
    expect(error.details).toMatchObject({ node: 'bad', function: 'process' });
    expect(String(error.details.guest)).toMatch(/^uncaught Error: misbehave: trapped mid-batch \(at process \(\S*misbehave-js\/index\.js:\d+:\d+\)\) in process$/);
     // The place is the source file's own absolute path, so an editor can open it.
    expect(String(error.details.guest)).toContain(`(at process (${fileURLToPath(new URL('../fixtures/plugins/misbehave-js/index.js', import.meta.url))}:`);
  });

  it('thrown by configure names the node and says what was thrown', async () => {
    const plugin = await processor('misbehave-js.wasm', 'setup');
    const error = failure(() => plugin.configure(JSON.stringify({ mode: 'configure' })));
    expect(error.code).toBe('WEIR_PLUGIN_TRAP');
    expect(error.message).toMatch(/node "setup" .*trapped in configure: uncaught Error: misbehave: configure exploded/);
  });

  it('a WIT error value thrown on purpose stays an error result', async () => {
    const plugin = await processor('misbehave-js.wasm');
    plugin.configure(JSON.stringify({ mode: 'error', trigger: 'x' }));
    const error = failure(() => plugin.process([record('x-1')]));
    expect(error.code).toBe('WEIR_PLUGIN_ERROR');
    expect(error.details.kind).toBe('invalid-input');
    expect(error.details.guest).toBeUndefined();
  });

  it('is what `host test` prints', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-host-test-'));
    await writeFile(join(dir, 'in.jsonl'), '{"value":"ok"}\n{"value":"x-1"}\n');
    const stderr = new PassThrough();
    let printed = '';
    stderr.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const code = await main(
      ['test', join(fixtures, 'misbehave-js.wasm'), '--input', join(dir, 'in.jsonl'), '--config', JSON.stringify({ mode: 'trap', trigger: 'x' }), '--cache-dir', cacheDir],
      { stdin: Readable.from([]), stdout: new PassThrough(), stderr, env: {}, cwd: dir, onSignal: () => () => {} },
    );
    expect(code).not.toBe(0);
    expect(printed).toContain('WEIR_PLUGIN_TRAP');
    expect(printed).toContain('uncaught Error: misbehave: trapped mid-batch');
  });
});

describe('a Rust panic', () => {
  it('reaches the error with its message and file:line:column', async () => {
    const plugin = await processor('panic-rust.wasm');
    plugin.configure('{}');
    expect((await plugin.process([record('fine')])).map((r) => new TextDecoder().decode(r.value))).toEqual(['fine']);
    const error = failure(() => plugin.process([record('fine'), record('x-7')]));
    expect(error.code).toBe('WEIR_PLUGIN_TRAP');
    expect(error.message).toMatch(/panicked at \S*src\/lib\.rs:\d+:\d+: panic-rust: cannot take x-7 \(.*unreachable.*\)/);
    expect(error.details).toMatchObject({ node: 'bad', function: 'process' });
  });

  it('in configure names the node', async () => {
    const plugin = await processor('panic-rust.wasm', 'setup');
    const error = failure(() => plugin.configure('{"mode":"configure"}'));
    expect(error.message).toMatch(/node "setup" .*trapped in configure: panicked at .*panic-rust: configure refused/);
  });

  it('is written into the dead-letter headers, and only the bad record is dead-lettered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-panic-'));
    const { problems, summary } = await runValues(dir, ['ok-1', 'x-2', 'ok-3', 'ok-4'], {
      name: 'panic',
      plugins: { dir: fixtures },
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
        { id: 'bad', kind: 'processor', plugin: 'panic-rust.wasm', inputs: ['in'], onError: { policy: 'dead-letter', deadLetter: 'dlq' } },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['bad'], config: { path: 'out.jsonl' } },
        { id: 'dlq', kind: 'sink', connector: 'file', config: { path: 'dlq.jsonl' } },
      ],
    }, cacheDir);
    expect(problems).toEqual([]);
    const dead = (await readFile(join(dir, 'dlq.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { value: string; headers: Record<string, string> });
    expect(dead.map((d) => d.value)).toEqual(['x-2']);
    expect(dead[0]!.headers['weir-error-message']).toContain('panic-rust: cannot take x-2');
    expect(summary!.nodes.find((n) => n.id === 'bad')).toMatchObject({ in: 4, out: 3, errors: 1, deadLettered: 1 });
  });
});

describe('a core module calling a service', () => {
  it('learns the kind of the service\'s error and can pass it on', async () => {
    const busy: ServiceCaller = () => {
      throw new WeirError('WEIR_PLUGIN_ERROR', 'regions is busy', { kind: 'transient' });
    };
    const plugin = await processor('probe-as.wasm', 'lookup', busy);
    plugin.configure('{}');
    const error = failure(() => plugin.process([record('pass:regions')]));
    expect(error.code).toBe('WEIR_PLUGIN_ERROR');
    expect(error.details.kind).toBe('transient');
    expect(error.message).toContain('regions is busy');
  });
});
