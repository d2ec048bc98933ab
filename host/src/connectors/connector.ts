/**
 * Built-in connectors are specs (`{kind, name, description, configSchema,
 * create}`) held in a {@link ConnectorRegistry} that is passed in, never
 * global, so tests build their own. The schema validates the node's `config`
 * in `host validate` and documents the connector in `host run --help`.
 */
import type { Logger } from 'pino';
import type { Readable, Writable } from 'node:stream';
import type { StreamRecord } from '../records/record.js';
import type { PollResult } from '../contract/plugin.js';

/** A running source, as the topology drives it. */
export interface Source {
  /**
   * Up to `max` records; `done` once the source is exhausted.
   *
   * A source that meets a failure after good records (a bad input line, say)
   * returns those records first and throws on the next poll, so whatever it
   * returned before the throw is good input. The run lets it reach the sinks
   * before failing (docs/pipeline.md, "When a node fails").
   */
  poll(max: number): Promise<PollResult>;
  close(): Promise<void>;
}

/** A running sink, as the topology drives it. */
export interface Sink {
  write(batch: StreamRecord[]): Promise<void>;
  /** Resolves once everything written so far is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** What a connector may use when it is created. */
export interface ConnectorContext {
  /** Folder of the pipeline file; relative paths in config resolve against it. */
  baseDir: string;
  /** Id of the node the connector serves, named in its errors and logs (when the run passes it). */
  node?: string;
  logger: Logger;
  stdin: Readable;
  stdout: Writable;
}

/** A JSON Schema object (draft-07), kept loose on purpose. */
export type JsonSchema = Record<string, unknown>;

/** A built-in source. */
export interface SourceSpec {
  kind: 'source';
  name: string;
  description: string;
  configSchema: JsonSchema;
  create(config: Record<string, unknown>, ctx: ConnectorContext): Source;
}

/** A built-in sink. */
export interface SinkSpec {
  kind: 'sink';
  name: string;
  description: string;
  configSchema: JsonSchema;
  create(config: Record<string, unknown>, ctx: ConnectorContext): Sink;
}

/** Any built-in connector. */
export type ConnectorSpec = SourceSpec | SinkSpec;

/** Connectors by kind and name. */
export class ConnectorRegistry {
  readonly #specs = new Map<string, ConnectorSpec>();

  private constructor() {}

  /** A registry with nothing in it. */
  static empty(): ConnectorRegistry {
    return new ConnectorRegistry();
  }

  /** A copy that can be extended without touching this one. */
  clone(): ConnectorRegistry {
    const copy = new ConnectorRegistry();
    for (const spec of this.#specs.values()) copy.register(spec);
    return copy;
  }

  /** Adds a spec; a second spec with the same kind and name is an error. */
  register(spec: ConnectorSpec): this {
    const id = `${spec.kind}:${spec.name}`;
    if (this.#specs.has(id)) throw new Error(`connector ${id} is already registered`);
    this.#specs.set(id, spec);
    return this;
  }

  source(name: string): SourceSpec | undefined {
    const spec = this.#specs.get(`source:${name}`);
    return spec?.kind === 'source' ? spec : undefined;
  }

  sink(name: string): SinkSpec | undefined {
    const spec = this.#specs.get(`sink:${name}`);
    return spec?.kind === 'sink' ? spec : undefined;
  }

  /** Every spec, sources first, each sorted by name. */
  list(): ConnectorSpec[] {
    const kindOrder = { source: 0, sink: 1 };
    return [...this.#specs.values()].sort((a, b) => kindOrder[a.kind] - kindOrder[b.kind] || a.name.localeCompare(b.name));
  }
}
