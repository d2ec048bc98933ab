/**
 * A {@link CheckpointStore} in memory, with the sqlite store's behaviour
 * (parts replaced, state changes applied, a write all or nothing, copies in
 * and out), for unit tests of the modules that take and restore checkpoints.
 */
import { WeirError } from '../errors/errors.js';
import type { CheckpointPart, CheckpointStore, CheckpointSummary, CheckpointWrite, NodeSignature, StateEntry, StoredCheckpoint } from './checkpoint-store.js';

/** What the store holds: the meta of the last checkpoint, its parts, the state by node and latin1 key. */
interface Held {
  epoch: number;
  takenAt: string;
  graph: NodeSignature[];
  parts: CheckpointPart[];
  state: Map<string, Map<string, StateEntry>>;
}

/** A {@link CheckpointStore} that keeps the latest checkpoint in memory. */
export class MemoryCheckpointStore implements CheckpointStore {
  #held: Held | undefined;
  #state: 'open' | 'closed' = 'open';
  #writes = 0;

  /** Checkpoints written so far (for tests that count them). */
  get writes(): number {
    return this.#writes;
  }

  async latest(): Promise<StoredCheckpoint | undefined> {
    this.#assertOpen();
    const held = this.#held;
    if (!held) return undefined;
    const state = new Map<string, StateEntry[]>();
    for (const [node, entries] of [...held.state].sort(([a], [b]) => compare(a, b))) {
      if (entries.size === 0) continue;
      state.set(node, [...entries].sort(([a], [b]) => compare(a, b)).map(([, [k, v]]): StateEntry => [k.slice(), v.slice()]));
    }
    const parts = held.parts.map((p) => ({ ...p, data: p.data.slice() }));
    // The order the sqlite store reads them in: node, part, lane.
    parts.sort((a, b) => compare(a.node, b.node) || compare(a.part, b.part) || a.lane - b.lane);
    return { epoch: held.epoch, takenAt: held.takenAt, graph: structuredClone(held.graph), parts, state };
  }

  async write(checkpoint: CheckpointWrite): Promise<void> {
    this.#assertOpen();
    // Build the next state beside the current one, so a failure leaves the previous checkpoint as it was.
    const state = new Map([...(this.#held?.state ?? [])].map(([node, entries]) => [node, new Map(entries)]));
    for (const { node, changes } of checkpoint.state) {
      let entries = state.get(node);
      if (!entries) state.set(node, (entries = new Map()));
      for (const [id, value] of changes) {
        if (value === null) entries.delete(id);
        else entries.set(id, [Uint8Array.from(Buffer.from(id, 'latin1')), value.slice()]);
      }
    }
    // The state of nodes no longer in the pipeline goes.
    const present = new Set(checkpoint.graph.map((n) => n.id));
    for (const node of state.keys()) if (!present.has(node)) state.delete(node);
    const seen = new Set<string>();
    for (const p of checkpoint.parts) {
      const id = `${p.node}\u0000${p.lane}\u0000${p.part}`;
      if (seen.has(id)) throw new WeirError('WEIR_CHECKPOINT_STORE', `cannot write checkpoint ${checkpoint.epoch}: part ${p.part} of node "${p.node}" lane ${p.lane} appears twice`, { node: p.node });
      seen.add(id);
    }
    this.#held = {
      epoch: checkpoint.epoch,
      takenAt: checkpoint.takenAt,
      graph: structuredClone(checkpoint.graph),
      parts: checkpoint.parts.map((p) => ({ ...p, data: p.data.slice() })),
      state,
    };
    this.#writes++;
  }

  async summary(): Promise<CheckpointSummary | undefined> {
    this.#assertOpen();
    const held = this.#held;
    if (!held) return undefined;
    const nodes = new Map<string, { node: string; keys: number; parts: number }>();
    const entry = (node: string) => nodes.get(node) ?? nodes.set(node, { node, keys: 0, parts: 0 }).get(node)!;
    let bytes = 0;
    for (const [node, entries] of held.state) {
      if (entries.size === 0) continue;
      entry(node).keys = entries.size;
      for (const [k, v] of entries.values()) bytes += k.byteLength + v.byteLength;
    }
    for (const p of held.parts) {
      entry(p.node).parts++;
      bytes += p.data.byteLength;
    }
    return { epoch: held.epoch, takenAt: held.takenAt, bytes, nodes: [...nodes.values()].sort((a, b) => compare(a.node, b.node)) };
  }

  async clear(): Promise<void> {
    this.#assertOpen();
    this.#held = undefined;
  }

  async close(): Promise<void> {
    this.#state = 'closed';
  }

  #assertOpen(): void {
    if (this.#state === 'closed') throw new WeirError('WEIR_CHECKPOINT_STORE', 'the checkpoint store is closed');
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
