/**
 * Applies an edited pipeline.json to a running pipeline, as a diff (see
 * `diffPipelines`). Every new piece is built and checked first: changed
 * plugins get a trial instance, added nodes and extra instances are created
 * and configured; if anything fails, what was built is closed and the
 * pipeline runs on as it was. Plugin changes alone switch between batches.
 *
 * A structural edit (nodes added, removed or rewired) becomes a
 * {@link PendingRewire}: the run pauses its sources, lets the current wiring
 * drain as at a stop (but kept nodes neither close windows nor sinks), then
 * commits the edit and starts the next wiring; sources continue where they
 * were, windows and keyed state carry over. If the run fails, stops on a
 * timed-out drain, or a source fails meanwhile, the edit is abandoned.
 * One edit at a time: others are refused until it is done.
 */
import type { Logger } from 'pino';
import type { NodeConfig, PipelineConfig } from '../config/pipeline-config.js';
import { diffPipelines, isStructural } from '../config/diff.js';
import type { PipelineDiff } from '../config/diff.js';
import type { PluginModule } from '../engine/engine.js';
import { messageOf } from '../errors/errors.js';
import type { NodeOperator } from './operators/operator-context.js';
import { ProcessorOperator } from './operators/processor-operator.js';
import type { Lane } from './operators/processor-operator.js';
import { ServiceOperator } from './operators/service-supervisor.js';
import { instancesOf } from './wiring.js';

/** What {@link PipelineEditor.apply} did with an edited pipeline. */
export interface ApplyOutcome {
  ok: boolean;
  /** Plugin nodes switched to a new plugin, config, limits or grants (when ok). */
  changed: string[];
  /** Nodes added, removed, and rewired (inputs, parallelism, partition, batch, onError) (when ok). */
  added: string[];
  removed: string[];
  rewired: string[];
  /** Why nothing was applied (when not ok). */
  reasons: string[];
}

/** A structural edit waiting for the current wiring to drain. */
export interface PendingRewire {
  /** Nodes that go on after the rewire: they keep their windows open and their sinks and sources open. */
  kept: ReadonlySet<string>;
  /** Switches to the edited pipeline (the wiring has drained). */
  commit(): Promise<void>;
  /** Closes what was built for the edit; the run is ending. */
  abandon(reason: string): Promise<void>;
}

/** The run, as {@link PipelineEditor} edits it. */
export interface EditableRun {
  readonly logger: Logger;
  /** The pipeline as it runs now. */
  running(): PipelineConfig;
  /** Whether the run still takes replacements (it is running or draining). */
  accepting(): boolean;
  /** Whether the run can be rewired (it runs, and its last wiring has not drained). */
  rewirable(): boolean;
  /** Whether node `id` is part of the run now. */
  hasNode(id: string): boolean;
  /** What node `id` holds. */
  operator(id: string): NodeOperator | undefined;
  /** The plugin module node `id` runs now. */
  module(id: string): PluginModule | undefined;
  /** Checks `module` as `node`'s next plugin (throws to refuse it). */
  checkReplacement(node: NodeConfig, module: PluginModule): Promise<number>;
  /** Makes `module` the node's plugin. */
  switchPlugin(node: NodeConfig, module: PluginModule): Promise<void>;
  /** Creates what a new node holds (its plugin version starts at 0). */
  createNode(node: NodeConfig, module: PluginModule | undefined): Promise<NodeOperator>;
  /** Makes an added service callable before the edit commits (added processors may call it while configured). */
  exposeService(id: string, service: ServiceOperator): void;
  /** Forgets a node built for an edit that is refused or abandoned (it is closed). */
  forgetNode(id: string): void;
  /** A configured lane of processor `node`. */
  createLane(node: NodeConfig, module: PluginModule): Promise<Lane>;
  /** Makes sources stop waiting for input: the current wiring drains. */
  interruptSources(): void;
  /** Takes a node out of the run (the wiring has drained). */
  removeNode(id: string): Promise<void>;
  /** Runs as `edited` (an edit that changed plugins only: they are switched). */
  runAs(edited: PipelineConfig): void;
  /** Runs `edited` from the next wiring on, with the nodes `built` for it (and their `modules`). */
  adopt(edited: PipelineConfig, built: ReadonlyMap<string, NodeOperator>, modules: ReadonlyMap<string, PluginModule>): void;
}

const ANOTHER_EDIT = 'another edit is being applied; apply this one after it';

/** Applies pipeline edits to one run, one at a time. */
export class PipelineEditor {
  readonly #run: EditableRun;
  #pending: PendingRewire | undefined;

  constructor(run: EditableRun) {
    this.#run = run;
  }

  /** The structural edit waiting for the current wiring to drain, if any. */
  get pending(): PendingRewire | undefined {
    return this.#pending;
  }

  /** The pending edit was committed or abandoned: the next may come. */
  settled(): void {
    this.#pending = undefined;
  }

  /** Applies `edited`; resolves once the edited pipeline runs, or with the reasons it was refused. */
  async apply(edited: PipelineConfig, modules: ReadonlyMap<string, PluginModule>): Promise<ApplyOutcome> {
    const run = this.#run;
    if (!run.accepting()) return refusedEdit(['the run has finished']);
    if (this.#pending) return refusedEdit([ANOTHER_EDIT]);
    const diff = diffPipelines(run.running(), edited);
    if (diff.refused.length > 0) return refusedEdit(diff.refused);
    const next = new Map(edited.nodes.map((n) => [n.id, n]));
    for (const id of diff.changed) {
      try {
        await run.checkReplacement(next.get(id)!, modules.get(id)!);
      } catch (error) {
        return refusedEdit([`node "${id}": ${messageOf(error)}`]);
      }
    }
    if (isStructural(diff)) return this.#applyStructural(edited, diff, modules);
    if (!run.accepting()) return refusedEdit(['the run has finished']);
    if (this.#pending) return refusedEdit([ANOTHER_EDIT]);
    for (const id of diff.changed) await run.switchPlugin(next.get(id)!, modules.get(id)!);
    run.runAs(edited);
    return applied(diff);
  }

  async #applyStructural(edited: PipelineConfig, diff: PipelineDiff, modules: ReadonlyMap<string, PluginModule>): Promise<ApplyOutcome> {
    const run = this.#run;
    const notRunning = 'the pipeline is stopping; nodes can be added, removed or rewired only while it runs';
    if (!run.rewirable()) return refusedEdit([notRunning]);
    if (this.#pending) return refusedEdit([ANOTHER_EDIT]);
    const next = new Map(edited.nodes.map((n) => [n.id, n]));
    const built = new Map<string, NodeOperator>();
    const extraLanes = new Map<string, Lane[]>();
    // Rolling back: a close that fails is logged (the edit is refused either way).
    const closeFailed = (id: string) => (error: unknown) => run.logger.warn({ node: id, err: messageOf(error) }, 'closing a node built for a refused edit failed');
    const closeBuilt = async (): Promise<void> => {
      for (const [id, operator] of built) {
        await operator.close().catch(closeFailed(id));
        run.forgetNode(id);
      }
      for (const [id, lanes] of extraLanes) {
        for (const lane of lanes) {
          try {
            lane.close();
          } catch (error) {
            closeFailed(id)(error);
          }
        }
      }
    };
    let building = '';
    try {
      for (const node of servicesFirst(diff.added.map((id) => next.get(id)!))) {
        building = node.id;
        const operator = await run.createNode(node, modules.get(node.id));
        built.set(node.id, operator);
        // Added processors may call an added service while they are configured.
        if (operator instanceof ServiceOperator) run.exposeService(node.id, operator);
      }
      for (const id of diff.rewired) {
        building = id;
        const node = next.get(id)!;
        const operator = run.operator(id)!;
        if (!(operator instanceof ProcessorOperator)) continue;
        const lanes: Lane[] = [];
        extraLanes.set(id, lanes);
        for (let i = operator.lanes; i < instancesOf(node); i++) lanes.push(await run.createLane(node, modules.get(id) ?? run.module(id)!));
      }
    } catch (error) {
      await closeBuilt();
      return refusedEdit([`node "${building}": ${messageOf(error)}`]);
    }
    if (!run.rewirable() || this.#pending) {
      await closeBuilt();
      return refusedEdit([this.#pending ? ANOTHER_EDIT : notRunning]);
    }
    const kept = new Set(edited.nodes.map((n) => n.id).filter((id) => run.hasNode(id)));
    run.logger.info({ added: diff.added, removed: diff.removed, rewired: diff.rewired }, 'rewiring the pipeline: sources pause while in-flight records drain');
    return new Promise<ApplyOutcome>((resolve) => {
      run.interruptSources();
      this.#pending = {
        kept,
        commit: async () => {
          for (const id of diff.removed) await run.removeNode(id);
          for (const [id, lanes] of extraLanes) (run.operator(id) as ProcessorOperator).resize(lanes, instancesOf(next.get(id)!));
          run.adopt(edited, built, modules);
          for (const id of diff.changed) await run.switchPlugin(next.get(id)!, modules.get(id)!);
          resolve(applied(diff));
        },
        abandon: async (reason) => {
          await closeBuilt();
          resolve(refusedEdit([reason]));
        },
      };
    });
  }
}

/** Services first: processors may call them as soon as they are configured. */
export function servicesFirst(nodes: readonly NodeConfig[]): NodeConfig[] {
  return [...nodes.filter((n) => n.kind === 'service'), ...nodes.filter((n) => n.kind !== 'service')];
}

/** An edit that changed nothing, and why. */
export function refusedEdit(reasons: string[]): ApplyOutcome {
  return { ok: false, changed: [], added: [], removed: [], rewired: [], reasons };
}

function applied(diff: PipelineDiff): ApplyOutcome {
  return { ok: true, changed: diff.changed, added: diff.added, removed: diff.removed, rewired: diff.rewired, reasons: [] };
}
