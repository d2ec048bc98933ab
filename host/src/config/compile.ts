/**
 * Raw pipeline JSON -> typed, frozen {@link PipelineConfig}, in two phases:
 * the JSON Schema (ajv, every error at once) and then the graph rules
 * (unknown inputs, cycles, sources with inputs, sinks with outputs, unknown
 * connectors and their configs). Every problem carries a JSON pointer and,
 * where it helps, a hint. The file system is touched only by
 * {@link readPipelineFile} and by the check that granted directories exist;
 * plugin files are checked by `engine/plugin-check.ts`.
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import schema from './pipeline.schema.json' with { type: 'json' };
import { MAX_JSON_DEPTH, tooDeep } from './json-depth.js';
import { sharedValidators } from './schema-validators.js';
import type { SchemaValidators } from './schema-validators.js';
import { DEFAULT_BATCH, DEFAULT_CHECKPOINT, DEFAULT_ON_ERROR } from './pipeline-config.js';
import type { CheckpointConfig, Delivery, NodeConfig, PipelineConfig, Problem, WindowConfig } from './pipeline-config.js';
import { findCycle, parseInput } from '../graph/dag.js';
import { DEFAULT_LIMITS } from '../contract/limits.js';
import type { LimitsSettings } from '../contract/limits.js';
import type { CapabilityGrants } from '../contract/grants.js';
import { DEFAULT_HTTP_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES, hostPatternProblem } from '../contract/http-grant.js';
import type { HttpGrant } from '../contract/http-grant.js';
import { DEFAULT_GRANT_MAX_BYTES } from '../contract/grants.js';
import type { PluginKind } from '../contract/plugin.js';
import { CPU_MODES } from '../sandbox/cpu-mode.js';
import { WeirError, messageOf } from '../errors/errors.js';

/**
 * The outcome of {@link compilePipeline}: a config, or every problem found;
 * either way the plugin files the nodes name, as far as they could be read
 * (so plugin problems can be listed with the others).
 */
export type CompileResult = ({ ok: true; config: PipelineConfig } | { ok: false; problems: Problem[] }) & { plugins: PluginTargets };

/**
 * The built-in connectors a pipeline may name, as validation sees them: the
 * config schema of each, by kind and name (connectors/ConnectorRegistry is
 * one).
 */
export interface ConnectorCatalog {
  source(name: string): { readonly configSchema: object } | undefined;
  sink(name: string): { readonly configSchema: object } | undefined;
  list(): ReadonlyArray<{ readonly kind: 'source' | 'sink'; readonly name: string }>;
}

/** Inputs of {@link compilePipeline}. */
export interface CompileOptions {
  /** Path of the pipeline file (for relative paths and messages). */
  file: string;
  connectors: ConnectorCatalog;
  /** Compiled schema validators; the thread's shared set when absent. */
  validators?: SchemaValidators;
}

/** The pipeline JSON Schema, as shipped. */
export const pipelineSchema = schema;

/**
 * Reads and parses a pipeline file.
 *
 * @throws WeirError `WEIR_CONFIG_READ` when the file is missing or not JSON (with line and column).
 */
export async function readPipelineFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new WeirError('WEIR_CONFIG_READ', `cannot read pipeline file ${file}: ${messageOf(error)}`, { file }, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec(messageOf(error));
    const where = position ? lineAndColumn(text, Number(position[1])) : '';
    throw new WeirError('WEIR_CONFIG_READ', `${file}${where}: not valid JSON: ${messageOf(error)}`, { file }, { cause: error });
  }
}

/** A plugin file named by a node, as far as the raw file says. */
export interface PluginTarget {
  index: number;
  kind: PluginKind;
  /** Capabilities the node grants, as far as they could be read. */
  grants: CapabilityGrants;
  /** As written in the node. */
  file: string;
  /** Absolute path. */
  path: string;
}

/** The plugins folder and the plugin file of each node. */
export interface PluginTargets {
  pluginsDir: string;
  targets: PluginTarget[];
}

/**
 * The plugin files of every node whose kind and plugin are readable, even
 * when other parts of the file are invalid, so that plugin problems are
 * reported together with schema and graph problems.
 */
function pluginTargets(raw: unknown, nodes: readonly LooseNode[], baseDir: string): PluginTargets {
  const dir = (raw as { plugins?: { dir?: unknown } })?.plugins?.dir;
  const pluginsDir = resolve(baseDir, typeof dir === 'string' && dir !== '' ? dir : 'plugins');
  const targets = nodes.flatMap((node): PluginTarget[] =>
    typeof node.plugin === 'string' && node.plugin.endsWith('.wasm') && KINDS.includes(node.kind as PluginKind)
      ? [{ index: node.index, kind: node.kind === 'processor' && node.window !== undefined ? 'aggregator' : (node.kind as PluginKind), grants: node.grants, file: node.plugin, path: resolve(pluginsDir, node.plugin) }]
      : [],
  );
  return { pluginsDir, targets };
}

const KINDS: readonly PluginKind[] = ['source', 'processor', 'sink', 'service'];

/** Validates raw pipeline JSON and returns the typed config or every problem. */
export function compilePipeline(raw: unknown, options: CompileOptions): CompileResult {
  const file = resolve(options.file);
  const baseDir = dirname(file);
  // Everything below recurses over the file (the schema, cloning, freezing): refuse what would overflow the stack first.
  const deep = tooDeep(raw);
  if (deep !== undefined) return { ok: false, problems: [deepProblem(deep)], plugins: { pluginsDir: resolve(baseDir, 'plugins'), targets: [] } };
  const validators = options.validators ?? sharedValidators();
  const problems: Problem[] = [];
  if (!validators.pipeline(raw)) problems.push(...(validators.pipeline.errors ?? []).map((e) => problemFromAjv(e)));

  const nodes = rawNodes(raw, baseDir);
  const plugins = pluginTargets(raw, nodes, baseDir);
  problems.push(...graphProblems(nodes));
  problems.push(...connectorProblems(nodes, options.connectors, validators));
  problems.push(...settingProblems(raw, baseDir));
  if (problems.length > 0) return { ok: false, problems: dedupe(problems), plugins };

  const pipeline = raw as RawPipeline;
  const { pluginsDir } = plugins;
  const defaults = pipeline.defaults ?? {};
  const config: PipelineConfig = {
    name: pipeline.name,
    file,
    baseDir,
    pluginsDir,
    nodes: pipeline.nodes.map((node, index): NodeConfig => ({
      id: node.id,
      kind: node.kind,
      implementation: node.plugin !== undefined
        ? { type: 'plugin', file: node.plugin, path: resolve(pluginsDir, node.plugin) }
        : { type: 'connector', name: node.connector! },
      config: structuredClone(node.config ?? {}),
      inputs: [...(node.inputs ?? [])],
      parallelism: node.parallelism ?? 1,
      partition: node.partition ?? 'round-robin',
      batch: { ...DEFAULT_BATCH, ...defaults.batch, ...node.batch },
      limits: resolveLimits(defaults.limits, node.limits),
      capabilities: nodes[index]!.grants,
      ...(node.window ? { window: resolveWindow(node.window) } : {}),
      onError: { ...DEFAULT_ON_ERROR, ...defaults.onError, ...node.onError },
      index,
    })),
    ...(pipeline.checkpoint ? { checkpoint: resolveCheckpoint(pipeline.checkpoint, baseDir) } : {}),
  };
  return { ok: true, config: deepFreeze(config), plugins };
}

type RawCheckpoint = { intervalMs?: number; dir?: string; delivery?: Delivery };

/** The `checkpoint` block with its defaults, `dir` absolute (relative to the pipeline file's folder). */
function resolveCheckpoint(raw: RawCheckpoint, baseDir: string): CheckpointConfig {
  return {
    intervalMs: raw.intervalMs ?? DEFAULT_CHECKPOINT.intervalMs,
    dir: resolve(baseDir, raw.dir ?? DEFAULT_CHECKPOINT.dir),
    delivery: raw.delivery ?? DEFAULT_CHECKPOINT.delivery,
  };
}

function deepProblem(pointer: string): Problem {
  return {
    pointer,
    message: `nested more than ${MAX_JSON_DEPTH} levels deep; the pipeline file was not checked further`,
    hint: 'flatten this value: no pipeline setting or plugin config needs to nest this deep',
  };
}

export type RawWindow = { type: WindowConfig['type']; sizeMs?: number; slideMs?: number; gapMs?: number; allowedLatenessMs?: number; lateOutput?: string };

/**
 * A `window` object on its own (as `host test --window` takes it), checked
 * as pipeline.json would check it; defaults filled in.
 */
export function compileWindow(raw: unknown, validators = sharedValidators()): { ok: true; window: WindowConfig } | { ok: false; problems: Problem[] } {
  const deep = tooDeep(raw);
  if (deep !== undefined) return { ok: false, problems: [deepProblem(deep)] };
  const validate = validators.window;
  const problems: Problem[] = validate(raw) ? [] : (validate.errors ?? []).map((e) => problemFromAjv(e));
  if (problems.length === 0) problems.push(...windowProblems({ kind: 'processor', window: raw as Partial<RawWindow> }, ''));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, window: resolveWindow(raw as RawWindow) };
}

/**
 * A node's `capabilities` object on its own (as `host test --capabilities`
 * takes it): schema and setting checks, directories relative to `baseDir`.
 */
export function compileCapabilities(raw: unknown, baseDir: string, validators = sharedValidators()): { ok: true; grants: CapabilityGrants } | { ok: false; problems: Problem[] } {
  const deep = tooDeep(raw);
  if (deep !== undefined) return { ok: false, problems: [deepProblem(deep)] };
  const validate = validators.capabilities;
  const problems: Problem[] = validate(raw) ? [] : (validate.errors ?? []).map((e) => problemFromAjv(e));
  if (problems.length === 0) problems.push(...filesystemProblems(raw, '/filesystem', baseDir), ...httpProblems(raw, '/http/hosts'));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, grants: grantsOf(raw, baseDir) };
}

/**
 * A node's `limits` object on its own (as `host test --limits` takes it),
 * checked against the schema; defaults filled in as for a node.
 */
export function compileLimits(raw: unknown, validators = sharedValidators()): { ok: true; limits: LimitsSettings } | { ok: false; problems: Problem[] } {
  const deep = tooDeep(raw);
  if (deep !== undefined) return { ok: false, problems: [deepProblem(deep)] };
  const validate = validators.limits;
  if (!validate(raw)) return { ok: false, problems: (validate.errors ?? []).map((e) => problemFromAjv(e)) };
  return { ok: true, limits: resolveLimits({}, raw as RawLimits) };
}

/** A window with its defaults filled in (slide = size, no lateness, late output `late`). */
export function resolveWindow(raw: RawWindow): WindowConfig {
  const sizeMs = raw.sizeMs ?? 0;
  return {
    type: raw.type,
    sizeMs,
    slideMs: raw.type === 'sliding' ? raw.slideMs ?? sizeMs : sizeMs,
    gapMs: raw.gapMs ?? 0,
    allowedLatenessMs: raw.allowedLatenessMs ?? 0,
    lateOutput: raw.lateOutput ?? 'late',
  };
}

type RawLimits = Partial<Omit<LimitsSettings, 'cpu'>> & { cpu?: Partial<LimitsSettings['cpu']> };

/** Node limits over `defaults.limits` over {@link DEFAULT_LIMITS}, for every node kind alike (validation checked the mode fits). */
function resolveLimits(defaults: RawLimits = {}, node: RawLimits = {}): LimitsSettings {
  return { ...DEFAULT_LIMITS, ...defaults, ...node, cpu: { ...DEFAULT_LIMITS.cpu, ...defaults.cpu, ...node.cpu } };
}

function windowProblems(node: { kind?: unknown; parallelism?: unknown; partition?: unknown; window?: Partial<RawWindow>; onError?: { policy?: unknown } }, at: string): Problem[] {
  const window = node.window;
  if (!window || typeof window !== 'object') return [];
  const problems: Problem[] = [];
  const pointer = `${at}/window`;
  if (node.kind !== 'processor') problems.push({ pointer, message: `a window belongs on a processor node (this node is a ${String(node.kind)})` });
  if ((window.type === 'tumbling' || window.type === 'sliding') && window.sizeMs === undefined) problems.push({ pointer, message: `a ${window.type} window needs "sizeMs"` });
  if (window.type === 'sliding' && window.slideMs === undefined) problems.push({ pointer, message: 'a sliding window needs "slideMs"' });
  if (window.type === 'sliding' && typeof window.slideMs === 'number' && typeof window.sizeMs === 'number' && window.slideMs > window.sizeMs) {
    problems.push({ pointer: `${pointer}/slideMs`, message: 'slideMs must not exceed sizeMs (records between windows would belong to none)' });
  }
  if (window.type === 'session' && window.gapMs === undefined) problems.push({ pointer, message: 'a session window needs "gapMs"' });
  if (typeof node.parallelism === 'number' && node.parallelism > 1 && node.partition !== 'key') {
    problems.push({ pointer: `${at}/partition`, message: 'a windowed node with parallelism > 1 needs "partition": "key", so that every record of a key reaches the same accumulator' });
  }
  if (node.onError?.policy !== undefined && node.onError.policy !== 'fail') {
    problems.push({ pointer: `${at}/onError/policy`, message: 'windowed nodes support onError "fail" only for now (a failed accumulate leaves its window half-updated)' });
  }
  return problems;
}

/** Settings that cannot take effect as written: limits, parallelism, granted directories and hosts. */
function settingProblems(raw: unknown, baseDir: string): Problem[] {
  const pipeline = (typeof raw === 'object' && raw !== null ? raw : {}) as { defaults?: { limits?: RawLimits }; nodes?: unknown };
  const problems: Problem[] = [];
  (Array.isArray(pipeline.nodes) ? pipeline.nodes : []).forEach((n: unknown, index) => {
    const node = (typeof n === 'object' && n !== null ? n : {}) as { kind?: unknown; plugin?: unknown; limits?: RawLimits; parallelism?: unknown; partition?: unknown; window?: Partial<RawWindow>; onError?: { policy?: unknown }; capabilities?: unknown };
    problems.push(...windowProblems(node, `/nodes/${index}`));
    problems.push(...filesystemProblems(node.capabilities, `/nodes/${index}/capabilities/filesystem`, baseDir));
    problems.push(...httpProblems(node.capabilities, `/nodes/${index}/capabilities/http/hosts`));
    if (typeof node.parallelism === 'number' && node.parallelism > 1 && node.kind !== 'processor') {
      problems.push({ pointer: `/nodes/${index}/parallelism`, message: `parallelism applies to processor nodes only (this node is a ${String(node.kind)})`, hint: 'remove "parallelism", or set it to 1' });
    }
    problems.push(...cpuModeProblems(node, pipeline.defaults?.limits, `/nodes/${index}`));
  });
  return problems;
}

/**
 * What the node's cpu mode (its own, else `defaults.limits.cpu.mode`, else
 * the default) says about its kind and limits: the strategy that will
 * instantiate the node validates it (sandbox/cpu-mode.ts). A kind the mode
 * cannot limit points at the node's `limits/cpu/mode`, or at
 * `/defaults/limits/cpu/mode` when the node inherits the mode.
 */
const NODE_KINDS: ReadonlySet<unknown> = new Set<NodeConfig['kind']>(['source', 'processor', 'sink', 'service']);

function cpuModeProblems(node: { kind?: unknown; window?: unknown; plugin?: unknown; limits?: RawLimits }, defaults: RawLimits | undefined, at: string): Problem[] {
  const own = typeof node.limits === 'object' && node.limits !== null ? node.limits : {};
  const inherited = typeof defaults === 'object' && defaults !== null ? defaults : {};
  const mode = own.cpu?.mode ?? inherited.cpu?.mode ?? DEFAULT_LIMITS.cpu.mode;
  // A connector node has no plugin instance to place on a thread.
  const thread = node.plugin === undefined ? undefined : own.cpu?.thread ?? inherited.cpu?.thread;
  const strategy = CPU_MODES[mode];
  if (!strategy) return [];
  // A kind that is no node kind is the schema's problem to report, not the mode's.
  if (!NODE_KINDS.has(node.kind)) return [];
  const kind: PluginKind = node.window ? 'aggregator' : (node.kind as PluginKind);
  // Settings from defaults are for the nodes whose mode reads them; only the node's own must fit its mode.
  const written = new Set(Object.keys(own));
  return strategy.problems(kind, written, thread).map((p) => {
    const fromNode = p.field === 'cpu/mode' ? own.cpu?.mode !== undefined : p.field === 'cpu/thread' ? own.cpu?.thread !== undefined : p.field in own;
    const pointer = fromNode ? `${at}/limits/${p.field}` : `/defaults/limits/${p.field}`;
    const message = fromNode ? p.message : `${p.message} (node ${at} inherits it from defaults)`;
    return { pointer, message, ...(p.hint ? { hint: p.hint } : {}) };
  });
}

interface RawNode {
  id: string;
  kind: NodeConfig['kind'];
  plugin?: string;
  connector?: string;
  config?: Record<string, unknown>;
  inputs?: string[];
  parallelism?: number;
  partition?: NodeConfig['partition'];
  batch?: Partial<NodeConfig['batch']>;
  limits?: RawLimits;
  capabilities?: unknown;
  window?: RawWindow;
  onError?: Partial<NodeConfig['onError']>;
}

interface RawPipeline {
  name: string;
  plugins?: { dir?: string };
  defaults?: { batch?: Partial<NodeConfig['batch']>; limits?: RawLimits; onError?: Partial<NodeConfig['onError']> };
  nodes: RawNode[];
  checkpoint?: RawCheckpoint;
}

/** A node as far as it could be read, with its index; malformed parts are left undefined. */
interface LooseNode {
  index: number;
  id?: string;
  kind?: string;
  plugin?: unknown;
  connector?: unknown;
  config?: unknown;
  inputs: string[];
  capabilities?: unknown;
  /** What `capabilities` grants, as far as it could be read. */
  grants: CapabilityGrants;
  window?: unknown;
  onError?: { policy?: unknown; deadLetter?: unknown };
}

/**
 * Grants from a node's `capabilities`, reading what is well-formed and
 * ignoring the rest (the schema reports it). Granted directories resolve
 * against the pipeline file's folder; `as` defaults to `/` + the folder name.
 */
function grantsOf(raw: unknown, baseDir: string): CapabilityGrants {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const dirs = (Array.isArray(o.filesystem) ? o.filesystem : []).filter((g): g is RawDirGrant => typeof (g as RawDirGrant)?.dir === 'string');
  return {
    env: Array.isArray(o.env) ? o.env.filter((name): name is string => typeof name === 'string') : [],
    clock: o.clock === true,
    random: o.random === true,
    filesystem: dirs.map((g) => (g.mode === 'rw'
      ? { dir: resolve(baseDir, g.dir), as: guestPathOf(g), mode: 'rw' as const, maxBytes: typeof g.maxBytes === 'number' ? g.maxBytes : DEFAULT_GRANT_MAX_BYTES }
      : { dir: resolve(baseDir, g.dir), as: guestPathOf(g), mode: 'ro' as const })),
    ...httpGrantOf(o.http),
  };
}

function httpGrantOf(raw: unknown): { http?: HttpGrant } {
  const o = (typeof raw === 'object' && raw !== null ? raw : undefined) as Record<string, unknown> | undefined;
  if (!o || !Array.isArray(o.hosts)) return {};
  return {
    http: {
      hosts: o.hosts.filter((h): h is string => typeof h === 'string' && hostPatternProblem(h) === undefined),
      timeoutMs: typeof o.timeoutMs === 'number' ? o.timeoutMs : DEFAULT_HTTP_TIMEOUT_MS,
      maxResponseBytes: typeof o.maxResponseBytes === 'number' ? o.maxResponseBytes : DEFAULT_MAX_RESPONSE_BYTES,
      denyPrivateAddresses: o.denyPrivateAddresses !== false,
    },
  };
}

/** Granted HTTP hosts that are not host patterns. */
function httpProblems(raw: unknown, at: string): Problem[] {
  const hosts = (raw as { http?: { hosts?: unknown } } | undefined)?.http?.hosts;
  if (!Array.isArray(hosts)) return [];
  return hosts.flatMap((host: unknown, i): Problem[] => {
    const problem = typeof host === 'string' ? hostPatternProblem(host) : undefined;
    return problem ? [{ pointer: `${at}/${i}`, message: problem, hint: 'for example "api.example.com", "*.example.com" or "127.0.0.1:8080"' }] : [];
  });
}

type RawDirGrant = { dir: string; as?: string; mode?: string; maxBytes?: unknown };

function guestPathOf(grant: RawDirGrant): string {
  return typeof grant.as === 'string' ? grant.as : `/${basename(resolve(grant.dir))}`;
}

/** Granted directories that are missing, not folders, or share a guest path. */
function filesystemProblems(raw: unknown, at: string, baseDir: string): Problem[] {
  const grants = (raw as { filesystem?: unknown } | undefined)?.filesystem;
  if (!Array.isArray(grants)) return [];
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  grants.forEach((g: unknown, i) => {
    if (typeof (g as RawDirGrant)?.dir !== 'string') return;
    const grant = g as RawDirGrant;
    const dir = resolve(baseDir, grant.dir);
    const info = statSync(dir, { throwIfNoEntry: false });
    if (!info) problems.push({ pointer: `${at}/${i}/dir`, message: `directory ${dir} does not exist`, hint: 'create it, or fix the path (relative paths start at the pipeline file\'s folder)' });
    else if (!info.isDirectory()) problems.push({ pointer: `${at}/${i}/dir`, message: `${dir} is not a directory`, hint: 'grant the folder that holds the file' });
    if (grant.maxBytes !== undefined && grant.mode !== 'rw') {
      problems.push({ pointer: `${at}/${i}/maxBytes`, message: 'maxBytes bounds what a plugin writes, and this grant is read-only', hint: 'remove "maxBytes", or grant "mode": "rw"' });
    }
    const guest = guestPathOf(grant);
    const earlier = seen.get(guest);
    if (earlier !== undefined) problems.push({ pointer: `${at}/${i}/as`, message: `"${guest}" is already the path of grant ${earlier}`, hint: 'give each directory its own "as"' });
    seen.set(guest, i);
  });
  return problems;
}

function rawNodes(raw: unknown, baseDir: string): LooseNode[] {
  const nodes = (raw as { nodes?: unknown })?.nodes;
  if (!Array.isArray(nodes)) return [];
  return nodes.flatMap((n: unknown, index): LooseNode[] => {
    if (typeof n !== 'object' || n === null) return [];
    const o = n as Record<string, unknown>;
    return [{
      index,
      id: typeof o.id === 'string' ? o.id : undefined,
      kind: typeof o.kind === 'string' ? o.kind : undefined,
      plugin: o.plugin,
      connector: o.connector,
      config: o.config,
      inputs: Array.isArray(o.inputs) ? o.inputs.filter((i): i is string => typeof i === 'string') : [],
      capabilities: o.capabilities,
      grants: grantsOf(o.capabilities, baseDir),
      window: o.window,
      onError: typeof o.onError === 'object' && o.onError !== null ? (o.onError as LooseNode['onError']) : undefined,
    }];
  });
}

function graphProblems(nodes: LooseNode[]): Problem[] {
  const problems: Problem[] = [];
  const firstById = new Map<string, LooseNode>();
  for (const node of nodes) {
    if (node.id === undefined) continue;
    const first = firstById.get(node.id);
    if (first) problems.push({ pointer: `/nodes/${node.index}/id`, message: `duplicate node id "${node.id}" (first used at /nodes/${first.index}/id)`, hint: 'give every node its own id' });
    else firstById.set(node.id, node);
  }
  const known = [...firstById.keys()];
  for (const node of nodes) {
    const at = `/nodes/${node.index}`;
    if (node.plugin === undefined && node.connector === undefined) {
      problems.push({ pointer: at, message: 'node has neither "plugin" nor "connector"', hint: 'set "plugin": "name.wasm" (in plugins.dir) or "connector": "<built-in name>"' });
    } else if (node.plugin !== undefined && node.connector !== undefined) {
      problems.push({ pointer: at, message: 'node has both "plugin" and "connector"', hint: 'keep one of them' });
    }
    if (node.kind === 'source' && node.inputs.length > 0) {
      problems.push({ pointer: `${at}/inputs`, message: `source "${node.id}" cannot have inputs`, hint: 'remove "inputs", or make the node a processor' });
    }
    if (node.kind === 'service' && node.inputs.length > 0) {
      problems.push({ pointer: `${at}/inputs`, message: `service "${node.id}" cannot have inputs: services are called by plugins, not wired`, hint: 'remove "inputs"; processors call it through call-service' });
    }
    const deadLetterTarget = node.kind === 'sink' && nodes.some((other) => other.onError?.deadLetter === node.id);
    if ((node.kind === 'processor' || node.kind === 'sink') && node.inputs.length === 0 && !deadLetterTarget) {
      problems.push({ pointer: at, message: `${node.kind} "${node.id}" has no inputs, so it would never receive a record`, hint: `add "inputs": ["<id of an upstream node>"] (known ids: ${known.join(', ')})` });
    }
    node.inputs.forEach((input, k) => {
      const { node: upstreamId, output } = parseInput(input);
      const upstream = firstById.get(upstreamId);
      const pointer = `${at}/inputs/${k}`;
      if (!upstream) {
        problems.push({ pointer, message: `unknown input "${input}"`, hint: `known node ids: ${known.join(', ')}` });
      } else if (input.includes('.') && !/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(output)) {
        problems.push({ pointer, message: `"${input}" names an invalid output "${output}"`, hint: 'write "node" for the default output or "node.output", the output name a letter then letters, digits, _ or -' });
      } else if (upstream.kind === 'sink') {
        problems.push({ pointer, message: `"${input}" is a sink, and a sink has no outputs`, hint: `read from the node that feeds "${input}" instead` });
      } else if (upstream.kind === 'service') {
        problems.push({ pointer, message: `"${input}" is a service, and a service has no outputs`, hint: 'call it from the plugin through call-service instead' });
      }
    });
    const deadLetter = node.onError?.deadLetter;
    if (typeof deadLetter === 'string') {
      const target = firstById.get(deadLetter);
      if (!target || target.kind !== 'sink') {
        problems.push({ pointer: `${at}/onError/deadLetter`, message: `dead-letter target "${deadLetter}" is not a sink node of this pipeline`, hint: 'name the id of a sink node' });
      } else if (node.kind === 'sink' && node.onError?.policy === 'dead-letter') {
        // A sink's dead letters feed another sink; a loop of them would wait for itself to end.
        const chain = [node.id!];
        for (let next: LooseNode | undefined = target; next?.kind === 'sink' && next.onError?.policy === 'dead-letter' && !chain.includes(next.id!); next = firstById.get(next.onError.deadLetter as string)) chain.push(next.id!);
        const last = firstById.get(firstById.get(chain.at(-1)!)!.onError?.deadLetter as string);
        if (last?.id === node.id) {
          problems.push({ pointer: `${at}/onError/deadLetter`, message: `dead-letter routes of sinks form a loop (${[...chain, node.id].join(' -> ')}): each would wait for the other to finish`, hint: 'send a sink\'s dead letters to a sink that does not dead-letter back' });
        }
      }
    }
    if (node.onError?.policy === 'dead-letter' && deadLetter === undefined) {
      problems.push({ pointer: `${at}/onError`, message: 'policy "dead-letter" needs "deadLetter": the id of a sink node' });
    }
  }
  const cycle = findCycle([...firstById.values()].map((n) => ({ id: n.id!, inputs: n.inputs })));
  if (cycle) {
    // Name the cycle from the member that comes first in the file.
    const members = cycle.slice(0, -1);
    const start = members.reduce((best, id, i) => (firstById.get(id)!.index < firstById.get(members[best]!)!.index ? i : best), 0);
    const path = [...members.slice(start), ...members.slice(0, start), members[start]!];
    problems.push({ pointer: `/nodes/${firstById.get(path[0]!)!.index}/inputs`, message: `the graph has a cycle: ${path.join(' -> ')}`, hint: 'pipelines are acyclic: remove one of these inputs' });
  }
  return problems;
}

function connectorProblems(nodes: LooseNode[], connectors: ConnectorCatalog, validators: SchemaValidators): Problem[] {
  const problems: Problem[] = [];
  for (const node of nodes) {
    if (typeof node.connector !== 'string') continue;
    const at = `/nodes/${node.index}`;
    if (node.kind !== 'source' && node.kind !== 'sink') {
      if (node.kind === 'processor' || node.kind === 'service') problems.push({ pointer: `${at}/connector`, message: `there are no built-in ${node.kind} connectors`, hint: 'use a plugin ("plugin": "name.wasm") for this node' });
      continue;
    }
    const spec = node.kind === 'source' ? connectors.source(node.connector) : connectors.sink(node.connector);
    if (!spec) {
      const names = connectors.list().filter((s) => s.kind === node.kind).map((s) => s.name);
      problems.push({ pointer: `${at}/connector`, message: `unknown ${node.kind} connector "${node.connector}"`, hint: `built-in ${node.kind}s: ${names.join(', ')}` });
      continue;
    }
    const validate = validators.connectorConfig(spec.configSchema);
    if (!validate(node.config ?? {})) {
      problems.push(...(validate.errors ?? []).map((e) => problemFromAjv(e, `${at}/config`)));
    }
  }
  return problems;
}

function problemFromAjv(error: ErrorObject, prefix = ''): Problem {
  const pointer = prefix + error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema as { properties?: object })?.properties ?? {});
      return { pointer, message: `unknown property "${String(params.additionalProperty)}"`, hint: `allowed: ${allowed.join(', ')}` };
    }
    case 'required':
      return { pointer, message: `missing required property "${String(params.missingProperty)}"` };
    case 'enum':
      return { pointer, message: `must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${JSON.stringify(error.data)})` };
    case 'pattern': {
      const description = (error.parentSchema as { description?: string })?.description;
      return { pointer, message: `${JSON.stringify(error.data)} does not match ${String(params.pattern)}`, ...(description ? { hint: description } : {}) };
    }
    case 'type': {
      // A bare word where an object with one required field is wanted ("onError": "skip"): say how to write it.
      const schema = error.parentSchema as { required?: string[]; properties?: Record<string, { type?: unknown; enum?: unknown[] }> } | undefined;
      const required = schema?.required;
      const field = required?.length === 1 ? schema?.properties?.[required[0]!] : undefined;
      // Only when the field takes that very string: a hint must give a valid setting.
      const takes = field !== undefined && (field.enum ? field.enum.includes(error.data) : field.type === 'string');
      const wrap = params.type === 'object' && typeof error.data === 'string' && takes && required !== undefined;
      return { pointer, message: `must be ${String(params.type)} (got ${JSON.stringify(error.data)})`, ...(wrap ? { hint: `write {"${required[0]}": ${JSON.stringify(error.data)}}` } : {}) };
    }
    default:
      return { pointer, message: error.message ?? 'is invalid' };
  }
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const id = `${p.pointer}\u0000${p.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `:${before.length}:${before.at(-1)!.length + 1}`;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
