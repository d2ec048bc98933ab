/**
 * Instantiates a transpiled component and adapts its exports to the
 * {@link PluginInstance} shape of its node kind.
 *
 * jco's `instantiate(getCoreModule, imports, instantiateCore)` asks the host
 * for every core module and lets it instantiate each one, so the host compiles
 * them instrumented for the node's limits and its {@link InstanceMeter} sees
 * every core instance's counters and memories. Calls are synchronous: a
 * component export runs to completion on the calling thread.
 */
import { pathToFileURL } from 'node:url';
import { REQUIRED_EXPORTS } from '../sandbox/plugin.js';
import type { PluginInstance, PluginKind, PollResult } from '../sandbox/plugin.js';
import type { StreamRecord } from '../records/record.js';
import type { HostContext } from '../linker/host-context.js';
import { componentImports, HOST_INTERFACES } from '../linker/component-imports.js';
import { componentImportCapability, denials, NO_GRANTS } from '../linker/capabilities.js';
import type { CapabilityGrants } from '../linker/capabilities.js';
import type { TranspiledComponent } from './transpile-cache.js';
import { CallGuard } from '../sandbox/call-guard.js';
import { InstanceMeter } from '../sandbox/meter.js';
import type { InstanceLimits } from '../sandbox/limits.js';
import { encodedBatchSize } from '../records/batch-codec.js';
import { WeirError } from '../errors/errors.js';
import { GuestFaultSlot } from '../errors/guest-fault.js';
import { instantiationError } from '../errors/instantiation-error.js';

/** Compiles one core module of a component, by the file name jco gives it. */
export type CoreModuleCompiler = (name: string) => Promise<WebAssembly.Module>;

type JcoInstantiate = (
  getCoreModule: CoreModuleCompiler,
  imports: Record<string, Record<string, unknown>>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
) => Promise<Record<string, (...args: never[]) => unknown>>;

/**
 * Problems that keep a component from filling a node of `kind`: missing
 * exports, imports the host does not offer, capabilities not granted.
 */
export function checkComponentWorld(component: Pick<TranspiledComponent, 'imports' | 'exports'>, kind: PluginKind, grants: CapabilityGrants = NO_GRANTS): string[] {
  const problems: string[] = [];
  const missing = REQUIRED_EXPORTS[kind].filter((name) => !component.exports.includes(name));
  if (missing.length > 0) {
    const names = missing.map((name) => `"${name}"`).join(', ');
    problems.push(`missing export${missing.length > 1 ? 's' : ''} ${names} required by the weir:plugin/${kind} world (it exports: ${component.exports.join(', ') || 'nothing'})`);
  }
  for (const name of component.imports) {
    if ((HOST_INTERFACES as readonly string[]).includes(name) || componentImportCapability(name)) continue;
    problems.push(`imports "${name}", which the host does not offer (it offers ${HOST_INTERFACES.filter((i) => !i.endsWith('/types')).join(', ')})`);
  }
  return [...problems, ...componentCapabilityProblems(component, grants)];
}

/** The WASI imports of a component that `grants` does not cover. */
export function componentCapabilityProblems(component: Pick<TranspiledComponent, 'imports'>, grants: CapabilityGrants): string[] {
  return denials(component.imports.map((name) => [`"${name}"`, componentImportCapability(name)] as const), grants);
}

/** Instantiates a component for a node of `kind`. */
export async function instantiateComponent(
  component: TranspiledComponent,
  kind: PluginKind,
  host: HostContext,
  limits: InstanceLimits,
  compileCore: CoreModuleCompiler,
): Promise<PluginInstance> {
  const module = (await import(pathToFileURL(component.jsFile).href)) as { instantiate: JcoInstantiate };
  const meter = new InstanceMeter(limits);
  const instantiateCore = async (core: WebAssembly.Module, imports?: WebAssembly.Imports): Promise<WebAssembly.Instance> => {
    const instance = await WebAssembly.instantiate(core, imports);
    meter.attach(instance);
    return instance;
  };
  const faults = new GuestFaultSlot();
  let exports: Record<string, (...args: never[]) => unknown>;
  try {
    exports = await module.instantiate(compileCore, componentImports(host, faults), instantiateCore);
  } catch (error) {
    throw instantiationError(error, host, faults);
  }
  const guard = new CallGuard(host.node, host.plugin, meter, faults);
  const limitOutput = (records: StreamRecord[], fn: string): StreamRecord[] => {
    const size = encodedBatchSize(records);
    if (size > limits.maxOutputBytes) {
      throw new WeirError('WEIR_LIMIT_OUTPUT', `${host.plugin} returned ${size} bytes from ${fn}, above limits.maxOutputBytes (${limits.maxOutputBytes})`, { node: host.node, plugin: host.plugin, function: fn, limit: 'output', bytes: size });
    }
    return records;
  };
  const call = <T>(name: string, ...args: unknown[]): T =>
    guard.run(name, () => (exports[name] as (...a: unknown[]) => T)(...args));

  switch (kind) {
    case 'processor':
      return {
        kind,
        configure: (config) => call<void>('configure', config),
        process: (batch) => guard.run('process', () => limitOutput((exports.process as (b: StreamRecord[]) => StreamRecord[])(batch), 'process')),
        usage: () => meter.usage(),
        close: () => guard.close(),
      };
    case 'source':
      return {
        kind,
        open: (config, resumeFrom) => call<void>('open', config, resumeFrom),
        poll: (max) => guard.run('poll', () => {
          const result = (exports.poll as (m: number) => PollResult)(max);
          limitOutput(result.records, 'poll');
          return result;
        }),
        usage: () => meter.usage(),
        ack: (position) => call<void>('ack', position),
        close: () => {
          if (guard.state !== 'closed' && guard.state !== 'poisoned') call<void>('close');
          guard.close();
        },
      };
    case 'sink':
      return {
        kind,
        open: (config) => call<void>('open', config),
        write: (batch) => call<void>('write', batch),
        flush: () => call<void>('flush'),
        usage: () => meter.usage(),
        close: () => guard.close(),
      };
    case 'aggregator':
      return {
        kind,
        configure: (config) => call<void>('configure', config),
        accumulate: (accumulator, record) => call<Uint8Array>('accumulate', accumulator, record),
        merge: (a, b) => call<Uint8Array>('merge', a, b),
        emit: (key, window, accumulator) => guard.run('emit', () => limitOutput((exports.emit as (k: unknown, w: unknown, a: unknown) => StreamRecord[])(key, window, accumulator), 'emit')),
        usage: () => meter.usage(),
        close: () => guard.close(),
      };
    case 'service':
      return {
        kind,
        configure: (config) => call<void>('configure', config),
        call: (method, payload) => call<Uint8Array>('call', method, payload),
        usage: () => meter.usage(),
        close: () => guard.close(),
      };
  }
}
