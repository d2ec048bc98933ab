/**
 * Loads every plugin a pipeline names and checks it against its node's
 * world, turning each failure into a {@link Problem} with a JSON pointer.
 */
import type { Problem } from '../config/pipeline-config.js';
import type { PluginTarget } from '../config/compile.js';
import type { Engine, PluginModule } from './engine.js';
import { WeirError, hasCode, messageOf } from '../errors/errors.js';

/** Loaded modules by node index, and the problems found. */
export interface PluginCheckResult {
  modules: Map<number, PluginModule>;
  problems: Problem[];
}

/** Loads and checks the plugin of every target (each file once). */
export async function checkPlugins(targets: readonly PluginTarget[], pluginsDir: string, engine: Engine): Promise<PluginCheckResult> {
  const modules = new Map<number, PluginModule>();
  const problems: Problem[] = [];
  const loads = new Map<string, Promise<PluginModule>>();
  for (const target of targets) {
    const pointer = `/nodes/${target.index}/plugin`;
    let loading = loads.get(target.path);
    if (!loading) {
      loading = engine.load(target.path);
      loads.set(target.path, loading);
    }
    try {
      const module = await loading;
      const mismatches = module.check(target.kind, target.grants);
      if (mismatches.length === 0) modules.set(target.index, module);
      for (const message of mismatches) {
        problems.push({ pointer, message: `${target.file} does not fit a ${target.kind} node: ${message}`, hint: `see wit/plugin.wit, world "${target.kind}", and "capabilities" in docs/pipeline.md` });
      }
    } catch (error) {
      problems.push({
        pointer,
        message: error instanceof WeirError ? error.message : `cannot load ${target.file}: ${messageOf(error)}`,
        ...(hasCode(error, 'WEIR_PLUGIN_NOT_FOUND')
          ? { hint: `plugins are looked up in ${pluginsDir} (set "plugins": {"dir": ...}); build the example plugins with \`npm run build\`` }
          : {}),
      });
    }
  }
  return { modules, problems };
}
