/** The registry of connectors that ship with the host. */
import { ConnectorRegistry } from './connector.js';
import { fileSink, fileSource } from './file.js';
import { stdinSource, stdoutSink } from './stdio.js';
import { generatorSource } from './generator.js';
import { nullSink } from './null-sink.js';
import { nexmarkSource } from './nexmark.js';

/** A new registry holding every built-in connector. */
export function builtinConnectors(): ConnectorRegistry {
  return ConnectorRegistry.empty()
    .register(fileSource)
    .register(stdinSource)
    .register(generatorSource)
    .register(nexmarkSource)
    .register(fileSink)
    .register(stdoutSink)
    .register(nullSink);
}
