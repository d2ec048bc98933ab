/**
 * Links a compiled {@link PluginModule} into a running {@link PluginInstance}:
 * checks that the plugin fits its node (capabilities first, then its world),
 * lets the node's cpu mode admit the kind (and its thread), and runs the
 * instance where the mode and `cpu.thread` say (sandbox/cpu-mode.ts): on this
 * thread, linked to the node's host functions, or in a worker thread of its
 * own (./worker/), which instantiates it on its own thread with the same
 * limits (fuel included).
 *
 * As in wasmtime, the engine compiles and caches (engine/engine.ts); this
 * layer links and limits.
 */
import type { PluginModule } from '../engine/engine.js';
import type { HostContext } from '../linker/host-context.js';
import type { PluginInstance, PluginKind } from '../contract/plugin.js';
import type { InstanceLimits } from '../contract/limits.js';
import { cpuModeOf, cpuRunnerOf, cpuThreadOf } from '../sandbox/cpu-mode.js';
import type { CpuRunner } from '../sandbox/cpu-mode.js';
import { WeirError } from '../errors/errors.js';
import { instantiationError } from '../errors/instantiation-error.js';
import { instantiateComponent } from './component-instance.js';
import { instantiateCorePlugin } from './core-module-instance.js';
import type { PluginWorkerOptions } from './worker/plugin-worker.js';

/** Creates one instance of a module; {@link instantiate}, or a stand-in (tests). */
export type Instantiate = (module: PluginModule, kind: PluginKind, host: HostContext, limits: InstanceLimits) => Promise<PluginInstance>;

/**
 * Creates one instance of `module` for a node of `kind`, bound to `host`,
 * running under `limits`, in the way its cpu mode says. Whatever it throws
 * names the node.
 *
 * @throws WeirError `WEIR_CAPABILITY_DENIED` or `WEIR_PLUGIN_WORLD_MISMATCH`
 *   when the plugin does not fit its node; `WEIR_CONFIG_INVALID` when the
 *   mode cannot limit `kind`; the instantiation's own errors.
 */
export async function instantiate(module: PluginModule, kind: PluginKind, host: HostContext, limits: InstanceLimits): Promise<PluginInstance> {
  try {
    refuseUnfit(module, kind, host);
    const mode = cpuModeOf(limits.cpuMode);
    mode.admit(kind, host, cpuThreadOf(limits));
    return await RUNNERS[cpuRunnerOf(limits)]({ module, kind, host, limits });
  } catch (error) {
    throw instantiationError(error, host);
  }
}

/** What a runner is asked to create. */
interface InstanceRequest {
  module: PluginModule;
  kind: PluginKind;
  host: HostContext;
  limits: InstanceLimits;
}

/** How each runner a cpu mode may name creates an instance. */
const RUNNERS: Readonly<Record<CpuRunner, (request: InstanceRequest) => Promise<PluginInstance>>> = {
  'in-thread': ({ module, kind, host, limits }) => instantiateInThread(module, kind, host, limits),
  worker: async ({ module, kind, host, limits }) => {
    const options: PluginWorkerOptions = { kind, file: module.file, cacheDir: module.engine.cacheDir, host, limits, warn: module.engine.warn };
    // Loaded on first use: a pipeline without worker nodes never starts the worker machinery.
    if (kind === 'processor') {
      const { WorkerProcessor } = await import('./worker/worker-processor.js');
      return WorkerProcessor.start(options);
    }
    const { BlockingWorkerInstance } = await import('./worker/blocking-worker.js');
    return BlockingWorkerInstance.start(options);
  },
};

/** Creates an instance on this thread, compiled for `limits`. */
async function instantiateInThread(module: PluginModule, kind: PluginKind, host: HostContext, limits: InstanceLimits): Promise<PluginInstance> {
  if (module.binary === 'component') return instantiateComponent(await module.code(), kind, host, limits, module.compilerFor(limits), module.engine.directories);
  // The world check admits processors and aggregators only.
  return instantiateCorePlugin(await module.compiled(limits), kind === 'aggregator' ? 'aggregator' : 'processor', host, limits, module.engine.directories);
}

/** Throws when a plugin does not fit its node: a denied capability first, else a world mismatch. */
function refuseUnfit(module: PluginModule, kind: PluginKind, host: HostContext): void {
  const problems = module.check(kind, host.capabilities);
  if (problems.length === 0) return;
  const denied = module.denied(host.capabilities);
  const code = denied.length > 0 ? 'WEIR_CAPABILITY_DENIED' : 'WEIR_PLUGIN_WORLD_MISMATCH';
  throw new WeirError(code, `${module.file} ${denied[0] ?? problems[0]}`, { node: host.node, plugin: module.file, problems });
}
