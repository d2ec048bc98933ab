/**
 * Gives plugin instances the async `Source` / `Sink` shape the topology
 * drives, so a source or sink node runs the same way whether it is a
 * built-in connector or a plugin.
 */
import type { Sink, Source } from '../connectors/connector.js';
import type { SinkInstance, SourceInstance } from '../contract/plugin.js';

/** A plugin source as a {@link Source}; positions are acknowledged once the batch is queued downstream. */
export function pluginSource(instance: SourceInstance): Source {
  let lastPosition: Uint8Array | undefined;
  return {
    poll: async (max) => {
      if (lastPosition) instance.ack(lastPosition);
      const result = instance.poll(max);
      lastPosition = result.position ?? undefined;
      return { records: result.records, position: lastPosition, done: result.done };
    },
    close: async () => {
      if (lastPosition) instance.ack(lastPosition);
      instance.close();
    },
  };
}

/** A plugin sink as a {@link Sink}. */
export function pluginSink(instance: SinkInstance): Sink {
  return {
    write: async (batch) => instance.write(batch),
    flush: async () => instance.flush(),
    close: async () => {
      instance.flush();
      instance.close();
    },
  };
}
