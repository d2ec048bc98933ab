/** The `null` sink: accepts and discards every record (counted in the summary). */
import type { SinkSpec } from './connector.js';

/** The `null` connector spec. */
export const nullSink: SinkSpec = {
  kind: 'sink',
  name: 'null',
  description: 'discards records (they still count in the summary)',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({ write: async () => {}, writePacked: async () => {}, flush: async () => {}, close: async () => {} }),
};
