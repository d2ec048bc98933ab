/**
 * Built-in connectors are specs (`{kind, name, description, configSchema,
 * create}`) held in a {@link ConnectorRegistry} that is passed in, never
 * global, so tests build their own. The schema validates the node's `config`
 * in `host validate` and documents the connector in `host run --help`.
 */
import type { Logger } from 'pino';
import type { Readable, Writable } from 'node:stream';
import type { StreamRecord } from '../records/record.js';
import type { Batch } from '../records/batch.js';
import type { PackedBatch } from '../records/packed-batch.js';
import type { Delivery } from '../config/pipeline-config.js';

/**
 * Where a source stands, as a checkpoint stores it: opaque to the run. The
 * built-in sources encode small versioned JSON (`{"v":1,...}`) in UTF-8; a
 * plugin source's position is whatever its `poll` reported.
 */
export type SourcePosition = Uint8Array;

/** What one poll of a {@link Source} returned. */
export interface SourcePoll {
  /** The records, as objects or packed (the built-in sources pack theirs). */
  records: Batch;
  /** Opaque resume position after these records. */
  position: Uint8Array | undefined;
  /** True when the source has nothing more, ever. */
  done: boolean;
}

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
  poll(max: number): Promise<SourcePoll>;
  /**
   * Where the source stands after every record its polls have returned so
   * far (not what it has read ahead): handed back as
   * {@link ConnectorContext.resumeFrom}, the source goes on with the next
   * record. Undefined when the source cannot say (a plugin before its first poll).
   */
  position?(): SourcePosition | undefined;
  /** A checkpoint covering `position` is durable: the source may forget what comes before it (plugin sources: `ack`). */
  ack?(position: SourcePosition): void;
  close(): Promise<void>;
}

/** A running sink, as the topology drives it. */
export interface Sink {
  write(batch: StreamRecord[]): Promise<void>;
  /**
   * Writes a packed batch without record objects; when present, the run
   * prefers it for packed batches (and calls {@link write} for the others).
   * Must write what {@link write} would for the same records.
   */
  writePacked?(batch: PackedBatch): Promise<void>;
  /** Resolves once everything written so far is durable. */
  flush(): Promise<void>;
  /**
   * Makes everything written so far durable and says how much that is, as a
   * token the checkpoint stores and hands back as
   * {@link ConnectorContext.resumeFrom} (file sink: the file's length; an
   * empty token when the sink has nothing to restore). Called between writes.
   */
  preCommit?(): Promise<Uint8Array>;
  /** The checkpoint holding `token` is durable. */
  commit?(token: Uint8Array): void;
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
  /**
   * Where to resume, from a stored checkpoint: a source's {@link Source.position}
   * or a sink's {@link Sink.preCommit} token. Absent on a fresh start.
   */
  resumeFrom?: Uint8Array;
  /** What the checkpoint promises the sinks (decides whether the file sink cuts its file back); absent when checkpoints are off. */
  delivery?: Delivery;
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
