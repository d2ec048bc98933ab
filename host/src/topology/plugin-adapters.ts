/**
 * Gives plugin instances the async `Source` / `Sink` shape the topology
 * drives, so a source or sink node runs the same way whether it is a
 * built-in connector or a plugin.
 */
import type { Sink, Source, SourcePosition } from '../connectors/connector.js';
import type { SinkInstance, SourceInstance } from '../contract/plugin.js';

/**
 * A plugin source as a {@link Source}. Its position is the last one a poll
 * reported (before the first: `resumedFrom`, the position the instance was
 * opened with, so a checkpoint taken then keeps the resume point); the instance hears `ack(position)` only when the run calls
 * {@link Source.ack} (a checkpoint covering that position is durable), never
 * on its own at the next poll or at close.
 */
export function pluginSource(instance: SourceInstance, resumedFrom?: SourcePosition): Source {
  let lastPosition = resumedFrom;
  return {
    poll: async (max) => {
      const result = instance.poll(max);
      if (result.position) lastPosition = result.position;
      return { records: result.records, position: result.position ?? undefined, done: result.done };
    },
    position: () => lastPosition,
    ack: (position) => instance.ack(position),
    close: async () => instance.close(),
  };
}

/** A plugin sink as a {@link Sink}; `preCommit` flushes it (a plugin cannot take writes back: the token is empty). */
export function pluginSink(instance: SinkInstance): Sink {
  return {
    write: async (batch) => instance.write(batch),
    flush: async () => instance.flush(),
    preCommit: async () => {
      instance.flush();
      return new Uint8Array(0);
    },
    close: async () => {
      instance.flush();
      instance.close();
    },
  };
}
