/**
 * The cpu-mode strategies as the validator sees them: every mode covers every
 * node kind, a mode from `defaults` reaches every plugin node (windowed ones
 * included), and settings a node's mode does not read are refused with a
 * pointer and a hint. What each mode does at run time is the adversarial
 * suite's job (adversarial.test.ts, "every node kind in every cpu mode").
 */
import { describe, expect, it } from 'vitest';
import { compilePipeline } from '../../src/config/compile.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { CPU_MODES, cpuModeOf } from '../../src/sandbox/cpu-mode.js';
import { PLUGIN_KINDS } from '../../src/contract/plugin.js';
import { hasCode } from '../../src/errors/errors.js';

const compile = (raw: unknown) => compilePipeline(raw, { file: '/p.json', connectors: builtinConnectors() });

const pipeline = (defaults: Record<string, unknown> | undefined, limits: Record<string, Record<string, unknown>> = {}) => {
  const own = (id: string) => (limits[id] ? { limits: limits[id] } : {});
  return {
    name: 'modes',
    ...(defaults ? { defaults: { limits: defaults } } : {}),
    nodes: [
      { id: 'src', kind: 'source', plugin: 'src.wasm', ...own('src') },
      { id: 'agg', kind: 'processor', plugin: 'agg.wasm', inputs: ['src'], window: { type: 'tumbling', sizeMs: 1000 }, ...own('agg') },
      { id: 'svc', kind: 'service', plugin: 'svc.wasm', ...own('svc') },
      { id: 'out', kind: 'sink', plugin: 'out.wasm', inputs: ['agg'], ...own('out') },
    ],
  };
};

describe('cpu modes', () => {
  it('every mode limits every node kind, and refuses none in validation', () => {
    for (const strategy of Object.values(CPU_MODES)) {
      expect([...strategy.kinds].sort()).toEqual([...PLUGIN_KINDS].sort());
      for (const kind of PLUGIN_KINDS) expect(strategy.problems(kind, new Set())).toEqual([]);
    }
  });

  it('fuel is compiled in for mode fuel only', () => {
    const limits = { memoryPages: 16, cpuMode: 'fuel', fuel: 7n, timeoutMs: 5, maxOutputBytes: 1 } as const;
    expect(cpuModeOf('fuel').fuelOf(limits)).toBe(7n);
    expect(cpuModeOf('worker').fuelOf({ ...limits, cpuMode: 'worker' })).toBeUndefined();
    expect(cpuModeOf('none').fuelOf({ ...limits, cpuMode: 'none' })).toBeUndefined();
  });

  it('a mode from defaults reaches every plugin node, windowed, source, sink and service alike', () => {
    const result = compile(pipeline({ cpu: { mode: 'worker' }, timeoutMs: 1234 }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    for (const node of result.config.nodes) expect(node.limits, node.id).toMatchObject({ cpu: { mode: 'worker' }, timeoutMs: 1234 });
  });

  it('refuses, with a pointer and a hint, a setting the node\'s mode (own or inherited) does not read', () => {
    const result = compile(pipeline({ cpu: { mode: 'worker' } }, { agg: { fuel: 10 }, svc: { cpu: { mode: 'fuel' }, timeoutMs: 5 }, out: { cpu: { mode: 'none' }, fuel: 1 } }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      { pointer: '/nodes/1/limits/fuel', message: 'fuel is metered in cpu mode "fuel" only; this node runs in mode "worker"', hint: 'budget the call with "timeoutMs"' },
      { pointer: '/nodes/2/limits/timeoutMs', message: 'timeoutMs is enforced in cpu mode "worker" only; this node runs in mode "fuel"', hint: 'add "cpu": {"mode": "worker"}, or budget the call with "fuel"' },
      { pointer: '/nodes/3/limits/fuel', message: 'fuel is metered in cpu mode "fuel" only; this node runs in mode "none"', hint: 'remove "fuel", or use cpu mode "fuel"' },
    ]);
  });

  it('settings in defaults apply to the nodes whose mode reads them and are not refused for the others', () => {
    const result = compile(pipeline({ fuel: 99, timeoutMs: 77 }, { agg: { cpu: { mode: 'worker' } } }));
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    const agg = result.config.nodes.find((n) => n.id === 'agg')!;
    expect(agg.limits).toMatchObject({ cpu: { mode: 'worker' }, timeoutMs: 77 });
    expect(result.config.nodes.find((n) => n.id === 'src')!.limits).toMatchObject({ cpu: { mode: 'fuel' }, fuel: 99 });
  });

  describe('cpu.thread', () => {
    const threaded = (thread: unknown, mode = 'fuel', extra: Record<string, unknown> = {}) => ({
      name: 'threads',
      nodes: [
        { id: 'src', kind: 'source', connector: 'generator', config: { count: 1 } },
        { id: 'work', kind: 'processor', plugin: 'work.wasm', inputs: ['src'], parallelism: 2, limits: { cpu: { mode, thread } }, ...extra },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['work'] },
      ],
    });

    it.each(['fuel', 'none'])('puts a processor\'s instances on worker threads in mode %s, and is written into its limits', (mode) => {
      const result = compile(threaded('worker', mode));
      expect(result.ok, JSON.stringify(result)).toBe(true);
      if (!result.ok) return;
      expect(result.config.nodes.find((n) => n.id === 'work')!.limits.cpu).toEqual({ mode, thread: 'worker' });
    });

    it('refuses a worker thread for every kind called synchronously (source, sink, service, windowed processor), with a pointer and a hint', () => {
      const result = compile(pipeline(undefined, {
        src: { cpu: { mode: 'fuel', thread: 'worker' } },
        agg: { cpu: { mode: 'fuel', thread: 'worker' } },
        svc: { cpu: { mode: 'none', thread: 'worker' } },
        out: { cpu: { thread: 'worker' } },
      }));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      const hint = 'remove "thread" (the node runs on the main thread), or use cpu mode "worker" for a wall-clock limit in a thread of its own';
      const message = (kind: string) => `cpu.thread "worker" runs processors only: a ${kind} is called synchronously, so a worker thread would only make the main thread wait for it`;
      expect(result.problems).toEqual([
        { pointer: '/nodes/0/limits/cpu/thread', message: message('source'), hint },
        { pointer: '/nodes/1/limits/cpu/thread', message: message('windowed processor'), hint },
        { pointer: '/nodes/2/limits/cpu/thread', message: message('service'), hint },
        { pointer: '/nodes/3/limits/cpu/thread', message: message('sink'), hint },
      ]);
    });

    it('refuses the main thread in mode worker', () => {
      const result = compile(threaded('main', 'worker'));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems).toEqual([
        { pointer: '/nodes/1/limits/cpu/thread', message: 'cpu mode "worker" runs every instance on a worker thread, not "main"', hint: 'remove "thread", or use a cpu mode that runs on the main thread' },
      ]);
    });

    it('from defaults, reaches the processors, leaves connector nodes alone, and points at defaults for a plugin node it cannot run', () => {
      const result = compile({
        name: 'inherited',
        defaults: { limits: { cpu: { thread: 'worker' } } },
        nodes: [
          { id: 'src', kind: 'source', connector: 'generator', config: { count: 1 } },
          { id: 'work', kind: 'processor', plugin: 'work.wasm', inputs: ['src'] },
          { id: 'out', kind: 'sink', plugin: 'out.wasm', inputs: ['work'] },
        ],
      });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems).toEqual([expect.objectContaining({ pointer: '/defaults/limits/cpu/thread', message: expect.stringMatching(/runs processors only: a sink .*\(node \/nodes\/2 inherits it from defaults\)$/) })]);
      const fixed = compile({ name: 'inherited', defaults: { limits: { cpu: { thread: 'worker' } } }, nodes: [
        { id: 'src', kind: 'source', connector: 'generator', config: { count: 1 } },
        { id: 'work', kind: 'processor', plugin: 'work.wasm', inputs: ['src'] },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['work'] },
      ] });
      expect(fixed.ok, JSON.stringify(fixed)).toBe(true);
    });

    it('refuses a thread the schema does not know', () => {
      const result = compile(threaded('gpu'));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problems.map((p) => p.pointer)).toContain('/nodes/1/limits/cpu/thread');
    });

    it('is admitted by instantiation only where validation admits it', () => {
      const site = { node: 'n', plugin: 'p' };
      expect(() => cpuModeOf('fuel').admit('processor', site, 'worker')).not.toThrow();
      for (const kind of ['source', 'sink', 'service', 'aggregator'] as const) {
        let thrown: unknown;
        try {
          cpuModeOf('fuel').admit(kind, site, 'worker');
        } catch (error) {
          thrown = error;
        }
        expect(hasCode(thrown, 'WEIR_CONFIG_INVALID'), kind).toBe(true);
      }
      expect(() => cpuModeOf('worker').admit('processor', site, 'main')).toThrow(/runs every instance on a worker thread/);
    });
  });
});
