/**
 * Runs one plugin against records, without a pipeline: what `host test` does,
 * importable by plugin authors from vitest (`import { runPlugin } from
 * 'weir/test'`).
 *
 * @example
 * const result = await runPlugin({ plugin: 'plugins/my-filter', input: await readJsonl('sample/input.jsonl') });
 * expect(result.lines).toEqual((await readFile('sample/expected.jsonl', 'utf8')).trim().split('\n'));
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { Engine, defaultCacheDir } from '../engine/engine.js';
import type { PluginModule } from '../engine/engine.js';
import { instantiate } from '../instance/instantiate.js';
import type { CacheWarning } from '../engine/transpile-cache.js';
import { buildPlugin } from '../build/plugin-build.js';
import { readPluginManifest } from '../build/plugin-manifest.js';
import { createHostContext } from '../linker/host-context.js';
import { BlockingHttpClient } from '../linker/http/blocking-client.js';
import type { PluginMetrics, ServiceCaller } from '../linker/host-context.js';
import type { CapabilityGrants } from '../contract/grants.js';
import { MemoryKeyedState } from '../state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits, stateLimits } from '../contract/limits.js';
import type { LimitsSettings } from '../contract/limits.js';
import type { AggregatorInstance, PluginKind, ProcessorInstance, ServiceInstance, SinkInstance, SourceInstance } from '../contract/plugin.js';
import type { WindowConfig } from '../config/pipeline-config.js';
import { WindowOperator } from '../topology/window-operator.js';
import { resolveWindow } from '../config/compile.js';
import type { StreamRecord } from '../records/record.js';
import { decodeBatch, encodeBatch } from '../records/batch-codec.js';
import { formatLine, parseLine } from '../connectors/jsonl.js';
import { WeirError } from '../errors/errors.js';

/** What to run. */
export interface PluginRunOptions {
  /** A `.wasm` file, or a plugin folder (with `plugin.json`), which is built first. */
  plugin: string;
  /** Records to feed: processors get them in batches, aggregators through their windows, sinks write them, services get each value as a payload. */
  input?: readonly StreamRecord[];
  /** The node kind; defaults to the folder's `plugin.json` kind, else `processor`. */
  kind?: PluginKind;
  /** The node's `config` object. */
  config?: Record<string, unknown>;
  /** Records per call (default 1024). */
  batchSize?: number;
  /** Service method to call (services only; default `call`). */
  method?: string;
  /** Aggregators: the window they run in (default {@link DEFAULT_TEST_WINDOW}). */
  window?: WindowConfig;
  /**
   * Limits, as in pipeline.json (defaults as for a pipeline node): the
   * instance's (memory, CPU, output) and what the host holds for it (keyed
   * state bytes and keys, metric names), breached with the same
   * `WEIR_LIMIT_*` errors.
   */
  limits?: Partial<LimitsSettings>;
  capabilities?: CapabilityGrants;
  /** Answers the plugin's `call-service`; by default every call fails. */
  callService?: ServiceCaller;
  /** Transpile cache folder (default as for `host run`). */
  cacheDir?: string;
  /** Where a failed cache write is reported (default: a process warning). */
  warn?: CacheWarning;
  /** Where the plugin's own log lines go (default: dropped). */
  log?: (level: string, message: string) => void;
}

/** The node id a plugin under test runs as (its errors and logs name it). */
const TEST_NODE = 'test';

/** The window an aggregator runs in when a test names none: tumbling, one minute. */
export const DEFAULT_TEST_WINDOW: WindowConfig = resolveWindow({ type: 'tumbling', sizeMs: 60_000 });

/** What came out. */
export interface PluginRunResult {
  kind: PluginKind;
  /** Records the plugin emitted (processors, sources) or returned (services, one per input record). */
  output: StreamRecord[];
  /** The output as JSONL lines, the format `host test --expect` compares. */
  lines: string[];
  metrics: PluginMetrics;
  state: MemoryKeyedState;
}

/** Builds (if a folder) and runs a plugin against `options.input`. */
export async function runPlugin(options: PluginRunOptions): Promise<PluginRunResult> {
  const { file, kind, cleanup } = await resolvePlugin(options.plugin, options.kind);
  try {
    const engine = new Engine({ cacheDir: options.cacheDir ?? defaultCacheDir(), warn: options.warn });
    return await runModule(await engine.load(file), kind, options);
  } finally {
    await cleanup();
  }
}

/** Runs a loaded plugin as a node of `kind` against `options.input` (what {@link runPlugin} does once the file is loaded). */
export async function runModule(module: PluginModule, kind: PluginKind, options: Omit<PluginRunOptions, 'plugin' | 'kind' | 'cacheDir' | 'warn'>): Promise<PluginRunResult> {
  const file = module.file;
  const problems = module.check(kind, options.capabilities);
  if (problems.length > 0) throw new WeirError('WEIR_PLUGIN_WORLD_MISMATCH', `${file} does not fit a ${kind} node: ${problems.join('; ')}`, { plugin: file, problems });
  const config = options.config ?? {};
  const settings: LimitsSettings = { ...DEFAULT_LIMITS, ...options.limits, cpu: { ...DEFAULT_LIMITS.cpu, ...options.limits?.cpu } };
  const state = new MemoryKeyedState(stateLimits(settings), TEST_NODE);
  const metrics: PluginMetrics = { counters: new Map(), gauges: new Map() };
  const logger = pino({ level: options.log ? 'trace' : 'silent' }, { write: (line: string) => {
    const { level, msg } = JSON.parse(line) as { level: number; msg: string };
    options.log?.(pino.levels.labels[level] ?? String(level), msg);
  } });
  const http = new BlockingHttpClient();
  const host = createHostContext({
    node: TEST_NODE,
    plugin: file,
    config,
    logger,
    state,
    metrics,
    maxMetricNames: settings.maxMetricNames,
    capabilities: options.capabilities,
    callService: options.callService ?? ((service) => {
      throw new WeirError('WEIR_SERVICE_NOT_FOUND', `no service "${service}" in a plugin test (pass callService to answer it)`, { service });
    }),
    http,
  });
  const limits = instanceLimits(settings);
  const input = options.input ?? [];
  const output: StreamRecord[] = [];
  const json = JSON.stringify(config);
  try {
    const instance = await instantiate(module, kind, host, limits);
    try {
      switch (instance.kind) {
        case 'processor':
          await runProcessor(instance, json, input, options.batchSize ?? 1024, output);
          break;
        case 'source':
          runSource(instance, json, options.batchSize ?? 1024, output);
          break;
        case 'sink':
          runSink(instance, json, input, options.batchSize ?? 1024);
          break;
        case 'service':
          runService(instance, json, input, options.method ?? 'call', output);
          break;
        case 'aggregator':
          runAggregator(instance, json, input, options.window ?? DEFAULT_TEST_WINDOW, options.batchSize ?? 1024, output);
          break;
      }
    } finally {
      instance.close();
    }
  } finally {
    http.close();
  }
  return { kind, output, lines: output.map((r) => formatLine(r, 'jsonl')), metrics, state };
}

/** As a processor node calls it: through its packed path when it has one (as `host run` prefers), else `process`. */
async function runProcessor(instance: ProcessorInstance, config: string, input: readonly StreamRecord[], batchSize: number, output: StreamRecord[]): Promise<void> {
  await instance.configure(config);
  for (let at = 0; at < input.length; at += batchSize) {
    const batch = input.slice(at, at + batchSize);
    if (instance.processPacked) output.push(...decodeBatch(await instance.processPacked(encodeBatch(batch))));
    else output.push(...(await instance.process(batch)));
  }
}

function runSource(instance: SourceInstance, config: string, batchSize: number, output: StreamRecord[]): void {
  instance.open(config, undefined);
  for (;;) {
    const { records, position, done } = instance.poll(batchSize);
    output.push(...records);
    if (position) instance.ack(position);
    if (done) return;
  }
}

function runSink(instance: SinkInstance, config: string, input: readonly StreamRecord[], batchSize: number): void {
  instance.open(config);
  for (let at = 0; at < input.length; at += batchSize) instance.write(input.slice(at, at + batchSize));
  instance.flush();
}

/** As a windowed node runs it: each batch through the windows, then every open window closes (end of input). */
function runAggregator(instance: AggregatorInstance, config: string, input: readonly StreamRecord[], window: WindowConfig, batchSize: number, output: StreamRecord[]): void {
  instance.configure(config);
  const windows = new WindowOperator(window, instance);
  for (let at = 0; at < input.length; at += batchSize) {
    const { emitted, late } = windows.add(input.slice(at, at + batchSize));
    output.push(...emitted, ...late);
  }
  output.push(...windows.flush());
}

function runService(instance: ServiceInstance, config: string, input: readonly StreamRecord[], method: string, output: StreamRecord[]): void {
  instance.configure(config);
  for (const record of input) output.push({ ...record, value: instance.call(method, record.value) });
}

/** Reads a JSONL file of records (the format of docs/pipeline.md). */
export async function readJsonl(file: string): Promise<StreamRecord[]> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').flatMap((line, i) => (line.trim() === '' ? [] : [parseLine(line, 'jsonl', `${file}:${i + 1}`)]));
}

/** One difference between expected and actual output lines. */
export interface LineDifference {
  /** 1-based line number. */
  line: number;
  expected: string | undefined;
  actual: string | undefined;
}

/**
 * Compares JSONL lines as records (key order inside a line does not matter).
 * Returns every differing line; empty when they match.
 */
export function diffLines(expected: readonly string[], actual: readonly string[]): LineDifference[] {
  const canonical = (line: string | undefined) => (line === undefined ? undefined : JSON.stringify(sortKeys(JSON.parse(line))));
  const differences: LineDifference[] = [];
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    if (canonical(expected[i]) !== canonical(actual[i])) differences.push({ line: i + 1, expected: expected[i], actual: actual[i] });
  }
  return differences;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}

async function resolvePlugin(plugin: string, kind: PluginKind | undefined): Promise<{ file: string; kind: PluginKind; cleanup: () => Promise<void> }> {
  const path = resolve(plugin);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new WeirError('WEIR_PLUGIN_NOT_FOUND', `${plugin} does not exist`, { plugin });
  if (!info.isDirectory()) return { file: path, kind: kind ?? 'processor', cleanup: async () => {} };
  const manifest = await readPluginManifest(path);
  const out = await mkdtemp(join(tmpdir(), 'weir-test-'));
  const built = await buildPlugin(path, out);
  return { file: built.outFile, kind: kind ?? manifest.kind, cleanup: () => rm(out, { recursive: true, force: true }) };
}
