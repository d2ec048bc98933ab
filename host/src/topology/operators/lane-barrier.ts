/**
 * What a processor lane does with checkpoint barriers, given to it by its
 * node's operator (see processor-operator.ts): the lane calls `arrive` when a
 * barrier reaches it (after emitting every record before it) and forwards
 * the barrier once `arrive` resolves; it calls `leave` once when its input
 * ends. An aggregator lane passes its encoded open windows to both.
 */
export interface LaneBarrier {
  /** This lane reached barrier `epoch`: resolves once every lane of the node has and the node's snapshot is reported. */
  arrive(epoch: number, windows?: Uint8Array): Promise<void>;
  /** This lane's input ended (`windows`: what it still holds open). */
  leave(windows?: Uint8Array): void;
  /** The node's task is over: lanes still waiting are released. */
  close(): void;
}
