/**
 * The shared first half of `host run` and `host validate`: read the file,
 * compile it, load and check every plugin. Problems from every stage are
 * collected so the user sees all of them at once.
 */
import { relative } from 'node:path';
import type { Writable } from 'node:stream';
import { compilePipeline, readPipelineFile } from '../config/compile.js';
import type { PipelineConfig, Problem } from '../config/pipeline-config.js';
import type { ConnectorRegistry } from '../connectors/connector.js';
import type { Engine, PluginModule } from '../engine/engine.js';
import { checkPlugins } from '../engine/plugin-check.js';

/** A pipeline ready to run, or why it is not. */
export type PreparedPipeline =
  | { ok: true; config: PipelineConfig; modules: Map<string, PluginModule> }
  | { ok: false; problems: Problem[] };

/**
 * Reads, compiles and checks a pipeline file.
 *
 * @throws WeirError `WEIR_CONFIG_READ` when the file cannot be read or parsed.
 */
export async function preparePipeline(file: string, engine: Engine, connectors: ConnectorRegistry): Promise<PreparedPipeline> {
  const raw = await readPipelineFile(file);
  const compiled = compilePipeline(raw, { file, connectors });
  const { pluginsDir, targets } = compiled.plugins;
  const checked = await checkPlugins(targets, pluginsDir, engine);
  if (!compiled.ok || checked.problems.length > 0) {
    const problems = [...(compiled.ok ? [] : compiled.problems), ...checked.problems];
    return { ok: false, problems: problems.sort((a, b) => comparePointers(a.pointer, b.pointer)) };
  }
  const modules = new Map<string, PluginModule>();
  for (const node of compiled.config.nodes) {
    const module = checked.modules.get(node.index);
    if (module) modules.set(node.id, module);
  }
  return { ok: true, config: compiled.config, modules };
}

/** Orders pointers as they appear in the file: numeric segments by number. */
function comparePointers(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    return Number.isInteger(na) && Number.isInteger(nb) ? na - nb : pa[i]!.localeCompare(pb[i]!);
  }
  return pa.length - pb.length;
}

/** Prints problems, one per line with its pointer, hints indented below. */
export function printProblems(out: Writable, file: string, cwd: string, problems: readonly Problem[]): void {
  const shown = relative(cwd, file) || file;
  out.write(`${shown}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`);
  for (const p of problems) {
    out.write(`  ${p.pointer || '/'}: ${p.message}\n`);
    if (p.hint) out.write(`      hint: ${p.hint}\n`);
  }
}
