// The `checkpoint` block of pipeline.json: defaults, bad values (each at its JSON pointer), and the
// warnings `host validate` gives about what a restore cannot make exactly-once.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePipeline } from '../../src/config/compile.js';
import { checkpointWarnings, pipelineWarnings } from '../../src/config/pipeline-warnings.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';

const nodes = [
  { id: 'in', kind: 'source', connector: 'generator' },
  { id: 'out', kind: 'sink', connector: 'null', inputs: ['in'] },
];

function compile(raw: object) {
  return compilePipeline({ name: 'p', nodes, ...raw }, { file: '/pipelines/p.json', connectors: builtinConnectors() });
}

function config(raw: object) {
  const result = compile(raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

describe('the checkpoint block', () => {
  it('is absent from the config when the file has none (no checkpoints)', () => {
    expect(config({}).checkpoint).toBeUndefined();
  });

  it('fills the defaults: every second, .weir beside the pipeline file, exactly-once', () => {
    expect(config({ checkpoint: {} }).checkpoint).toEqual({ intervalMs: 1000, dir: '/pipelines/.weir', delivery: 'exactly-once' });
  });

  it('takes the values given, dir relative to the pipeline file', () => {
    const checkpoint = config({ checkpoint: { intervalMs: 50, dir: '../state', delivery: 'at-least-once' } }).checkpoint;
    expect(checkpoint).toEqual({ intervalMs: 50, dir: '/state', delivery: 'at-least-once' });
    expect(Object.isFrozen(checkpoint)).toBe(true);
    expect(config({ checkpoint: { dir: '/abs', delivery: 'none' } }).checkpoint).toMatchObject({ dir: '/abs', delivery: 'none' });
  });

  it('reports every bad value at its JSON pointer', () => {
    const result = compile({ checkpoint: { intervalMs: 10, dir: '', delivery: 'twice', every: 5 } });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems.map((p) => `${p.pointer}: ${p.message}`);
    expect(problems).toEqual(expect.arrayContaining([
      '/checkpoint/intervalMs: must be >= 50',
      '/checkpoint/dir: must NOT have fewer than 1 characters',
      '/checkpoint/delivery: must be one of: "exactly-once", "at-least-once", "none" (got "twice")',
      '/checkpoint: unknown property "every"',
    ]));
    expect(problems).toHaveLength(4);
    const fractional = compile({ checkpoint: { intervalMs: 1000.5 } });
    expect(fractional.ok ? [] : fractional.problems.map((p) => `${p.pointer}: ${p.message}`)).toEqual(['/checkpoint/intervalMs: must be integer (got 1000.5)']);
    const notObject = compile({ checkpoint: true });
    expect(notObject.ok ? [] : notObject.problems.map((p) => p.pointer)).toEqual(['/checkpoint']);
  });
});

describe('checkpoint warnings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'weir-grant-'));
  const risky = [
    { id: 'keys', kind: 'source', connector: 'stdin' },
    { id: 'gen', kind: 'source', connector: 'generator' },
    { id: 'call', kind: 'processor', plugin: 'c.wasm', inputs: ['keys'], capabilities: { http: { hosts: ['api.example.com'] } } },
    { id: 'save', kind: 'processor', plugin: 's.wasm', inputs: ['gen'], capabilities: { filesystem: [{ dir, mode: 'rw' }] } },
    { id: 'read', kind: 'processor', plugin: 'r.wasm', inputs: ['gen'], capabilities: { filesystem: [{ dir }] } },
    { id: 'count', kind: 'processor', plugin: 'w.wasm', inputs: ['call', 'save', 'read'], window: { type: 'tumbling', sizeMs: 1000 } },
    { id: 'print', kind: 'sink', connector: 'stdout', inputs: ['count'] },
    { id: 'push', kind: 'sink', plugin: 'p.wasm', inputs: ['count'] },
    { id: 'file', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'out.jsonl' } },
    { id: 'lookup', kind: 'service', plugin: 'l.wasm' },
  ];
  const warnings = (checkpoint: object | undefined) => {
    const result = compilePipeline({ name: 'p', nodes: risky, ...(checkpoint ? { checkpoint } : {}) }, { file: join(dir, 'p.json'), connectors: builtinConnectors() });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    return { all: pipelineWarnings(result.config), checkpoint: checkpointWarnings(result.config) };
  };

  it('none without a checkpoint block, or with delivery none (checkpoints off)', () => {
    expect(warnings(undefined).checkpoint).toEqual([]);
    expect(warnings({ delivery: 'none' }).checkpoint).toEqual([]);
  });

  it('names each node a restore cannot make exactly-once, with what happens and how to avoid it', () => {
    const { all, checkpoint } = warnings({});
    expect(checkpoint.map((w) => w.pointer)).toEqual([
      '/nodes/0', // stdin
      '/nodes/2/capabilities', // http
      '/nodes/3/capabilities', // rw directory (the read-only grant of /nodes/4 is fine)
      '/nodes/5/window',
      '/nodes/6', // stdout
      '/nodes/7', // plugin sink
      '/nodes/9', // service
    ]);
    expect(all).toEqual(expect.arrayContaining(checkpoint));
    const text = checkpoint.map((w) => `${w.message} / ${w.hint}`);
    expect(text[0]).toMatch(/source "keys" reads standard input.*exactly-once only if the same input is piped in again.*\/ pipe the same input again/);
    expect(text[1]).toMatch(/"call" sends HTTP requests.*side effects happen again.*idempotent/);
    expect(text[2]).toMatch(/"save" writes files/);
    expect(text[3]).toMatch(/"count" puts records without an event time.*wall clock.*differs on replay.*eventTime/);
    expect(text[4]).toMatch(/sink "print" writes to standard output.*again.*\/ write to the file sink/);
    expect(text[5]).toMatch(/sink "push" is a plugin.*cannot be cut back.*idempotent/);
    expect(text[6]).toMatch(/service "lookup" is not part of checkpoints.*start empty after a restore/);
  });

  it('under at-least-once, repeats at the sinks are the promise: no sink warnings', () => {
    expect(warnings({ delivery: 'at-least-once' }).checkpoint.map((w) => w.pointer)).toEqual(['/nodes/0', '/nodes/2/capabilities', '/nodes/3/capabilities', '/nodes/5/window', '/nodes/9']);
  });
});
