/**
 * The JSON Schema validators config compilation uses, compiled once: the
 * whole pipeline, a `window`, a `capabilities` and a `limits` object on their own (as
 * `host test` takes them), and each connector's `configSchema` on first use.
 * Compiling a schema costs far more than validating with it, and a running
 * host compiles its pipeline again on every edit.
 */
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import schema from './pipeline.schema.json' with { type: 'json' };

/** Compiled validators over one Ajv instance. */
export class SchemaValidators {
  readonly #ajv = new Ajv({ allErrors: true, verbose: true, strict: false });
  readonly #connectors = new WeakMap<object, ValidateFunction>();
  /** The whole pipeline file. */
  readonly pipeline: ValidateFunction = this.#ajv.compile(schema);
  /** A `window` object. */
  readonly window: ValidateFunction = this.#ajv.compile({ ...schema.definitions.window, definitions: schema.definitions });
  /** A node's `capabilities` object. */
  readonly capabilities: ValidateFunction = this.#ajv.compile({ ...schema.definitions.capabilities, definitions: schema.definitions });
  /** A node's `limits` object. */
  readonly limits: ValidateFunction = this.#ajv.compile({ ...schema.definitions.limits, definitions: schema.definitions });

  /** The validator of a connector's config schema, compiled the first time it is asked for. */
  connectorConfig(configSchema: object): ValidateFunction {
    let validate = this.#connectors.get(configSchema);
    if (!validate) {
      validate = this.#ajv.compile(configSchema);
      this.#connectors.set(configSchema, validate);
    }
    return validate;
  }
}

let shared: SchemaValidators | undefined;

/**
 * The validators shared by every compilation in this thread, compiled on
 * first use (a command that never compiles a pipeline never pays for them).
 * Validators keep no state between calls beyond their last `errors`, which
 * callers read at once.
 */
export function sharedValidators(): SchemaValidators {
  shared ??= new SchemaValidators();
  return shared;
}
