/**
 * The host functions one plugin instance may call, independent of how the
 * plugin was built. `component-imports.ts` and `core-imports.ts` adapt
 * this one object to their import shapes, so both kinds of plugin see the
 * same behaviour.
 */
import type { Logger } from 'pino';
import { WeirError } from '../errors/errors.js';
import type { KeyedState } from '../state/keyed-state.js';
import { MAX_METRIC_NAME_LENGTH } from '../contract/limits.js';
import { NO_GRANTS } from '../contract/grants.js';
import type { CapabilityGrants } from '../contract/grants.js';
import type { SyncHttpSender } from './http/blocking-client.js';
import { checkRequest } from './http/send-request.js';
import { LogLimiter, limitedLog } from './log-limiter.js';
import type { HttpRequest, HttpResponse } from './http/send-request.js';

/** Log levels a plugin may use, as in the WIT `log.level` enum. */
export type PluginLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** Calls a method on a service node; throws a `WeirError` on failure. */
export type ServiceCaller = (service: string, method: string, payload: Uint8Array) => Uint8Array;

/** Host functions bound to one node. */
export interface HostContext {
  readonly node: string;
  readonly plugin: string;
  /** The node's config, as pipeline.json gives it. */
  readonly config: Readonly<Record<string, unknown>>;
  log(level: PluginLogLevel, message: string): void;
  /** Bounds the size and rate of `log` lines (per node) and counts what it dropped. */
  readonly logLimiter: LogLimiter;
  /** JSON text of the top-level config field `key`, or `undefined`. */
  configValue(key: string): string | undefined;
  readonly state: KeyedState;
  counterAdd(name: string, delta: bigint): void;
  gaugeSet(name: string, value: number): void;
  callService: ServiceCaller;
  /** Milliseconds since the Unix epoch. */
  now(): bigint;
  /**
   * Sends an HTTP request to a host the node grants and waits for the whole
   * response; throws `WEIR_HTTP_DENIED` / `WEIR_HTTP_FAILED` (`details.kind`
   * is the WIT error case).
   */
  httpSend(request: HttpRequest): HttpResponse;
  /** What the node grants beyond the Weir interfaces (WASI env, clock, random, filesystem, http). */
  readonly capabilities: CapabilityGrants;
  /** Distinct metric names (counters and gauges together) the node may use (a worker bounds its own updates with it). */
  readonly maxMetricNames: number;
}

/**
 * The WIT error case (`transient`, `invalid-input`, `fatal`) a failed host
 * function reports to the plugin: the `kind` in the error's details, else fatal.
 */
export function errorKindOf(error: unknown): 'transient' | 'invalid-input' | 'fatal' {
  const kind = (error as { details?: { kind?: unknown } })?.details?.kind;
  return kind === 'transient' || kind === 'invalid-input' ? kind : 'fatal';
}

/** Plugin-defined metric values of one node. */
export interface PluginMetrics {
  counters: Map<string, bigint>;
  gauges: Map<string, number>;
}

/** Everything needed to build a {@link HostContext}. */
export interface HostContextOptions {
  node: string;
  plugin: string;
  config: Readonly<Record<string, unknown>>;
  logger: Logger;
  state: KeyedState;
  metrics: PluginMetrics;
  /** Distinct metric names (counters and gauges together) the plugin may use; unbounded when absent. */
  maxMetricNames?: number;
  callService: ServiceCaller;
  now?: () => bigint;
  capabilities?: CapabilityGrants;
  /** Sends the node's HTTP requests; needed when `capabilities.http` is granted (the owner closes it). */
  http?: SyncHttpSender;
  /**
   * Bounds the size and rate of the plugin's log lines; share one between the
   * contexts of a node's instances so that the rate is per node (default: a
   * new one with `DEFAULT_LOG_LIMITS`).
   */
  logLimiter?: LogLimiter;
}

/** Builds the host functions for one node. */
export function createHostContext(options: HostContextOptions): HostContext {
  const { logger, metrics, config } = options;
  const capabilities = options.capabilities ?? NO_GRANTS;
  const caller = { node: options.node, plugin: options.plugin };
  const maxMetricNames = options.maxMetricNames ?? Number.POSITIVE_INFINITY;
  const pluginLogger = logger.child({ node: options.node, plugin: options.plugin, source: 'plugin' });
  const logLimiter = options.logLimiter ?? new LogLimiter();
  return {
    node: options.node,
    plugin: options.plugin,
    config,
    log: limitedLog(logLimiter, (level, message, dropped) =>
      dropped === undefined ? pluginLogger[level](message) : pluginLogger[level]({ droppedLines: dropped }, message)),
    logLimiter,
    configValue: (key) => (Object.hasOwn(config, key) ? JSON.stringify(config[key]) : undefined),
    state: options.state,
    ...metricFunctions(metrics, maxMetricNames, caller),
    callService: options.callService,
    now: options.now ?? (() => BigInt(Date.now())),
    httpSend: (request) => (options.http ?? NO_HTTP).send(capabilities.http, request, caller),
    capabilities,
    maxMetricNames,
  };
}

/**
 * `counterAdd` and `gaugeSet` writing into `metrics`, which may hold at most
 * `maxNames` distinct names (counters and gauges together) of at most
 * `MAX_METRIC_NAME_LENGTH` characters. A worker thread uses them on a map of
 * the updates since it last reported (see instance/worker/worker-entry.ts).
 * @throws WeirError `WEIR_LIMIT_METRICS` (from either function) for a name over the caps
 */
export function metricFunctions(metrics: PluginMetrics, maxNames: number, caller: { node: string; plugin: string }): Pick<HostContext, 'counterAdd' | 'gaugeSet'> {
  return {
    counterAdd: (name, delta) => {
      const counted = metrics.counters.get(name) ?? admitMetricName(metrics, name, maxNames, caller);
      metrics.counters.set(name, counted + delta);
    },
    gaugeSet: (name, value) => {
      if (!metrics.gauges.has(name)) admitMetricName(metrics, name, maxNames, caller);
      metrics.gauges.set(name, value);
    },
  };
}

/**
 * Checks a metric name the node has not used yet: its length, and that one
 * more distinct name (counters and gauges together) stays within the cap.
 * Returns 0n, the start of a new counter.
 * @throws WeirError `WEIR_LIMIT_METRICS`
 */
function admitMetricName(metrics: PluginMetrics, name: string, maxNames: number, caller: { node: string; plugin: string }): bigint {
  if (name.length > MAX_METRIC_NAME_LENGTH) {
    throw new WeirError('WEIR_LIMIT_METRICS', `${caller.plugin} on node "${caller.node}" used a metric name of ${name.length} characters, above the ${MAX_METRIC_NAME_LENGTH} the host accepts ("${name.slice(0, 40)}…"); use a short, fixed name`, { ...caller, limit: 'metrics', nameLength: name.length });
  }
  const names = metrics.counters.size + metrics.gauges.size - (metrics.counters.has(name) || metrics.gauges.has(name) ? 1 : 0);
  if (names >= maxNames) {
    throw new WeirError('WEIR_LIMIT_METRICS', `${caller.plugin} on node "${caller.node}" used more than limits.maxMetricNames (${maxNames}) distinct metric names (the new one: "${name.slice(0, 40)}"); put varying parts in the value, not the name, or raise the limit`, { ...caller, limit: 'metrics', maxMetricNames: maxNames });
  }
  return 0n;
}

/** For contexts built without an HTTP client: requests are checked against the grant, then refused. */
const NO_HTTP: SyncHttpSender = {
  send(grant, request, caller) {
    checkRequest(grant, request, caller);
    throw new WeirError('WEIR_HTTP_FAILED', `no HTTP client was given to node "${caller.node}"'s host context`, { ...caller, kind: 'fatal' });
  },
};
