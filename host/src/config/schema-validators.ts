/**
 * The JSON Schema validators config compilation uses: the whole pipeline, a
 * `window`, a `capabilities` and a `limits` object on their own (as `host
 * test` takes them), and each connector's `configSchema` on first use.
 *
 * `npm run build` compiles these schemas (and every built-in connector's) to
 * standalone code ahead of time (scripts/generate-schema-validators.js writes
 * dist/config/schema-validators.generated.cjs), because compiling them costs a
 * start-up far more than validating with them, and loading Ajv itself is not
 * free either. Each precompiled validator is keyed by the SHA-256 of its
 * schema's JSON: a schema that differs from the one it was compiled from (a
 * build that skipped the generator, a connector added since, the sources run
 * under vitest) is compiled with Ajv here instead, with the same options, so
 * a stale or missing artefact costs time, never correctness.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv, Options, ValidateFunction } from 'ajv';
import schema from './pipeline.schema.json' with { type: 'json' };

/** The Ajv options of every validator, precompiled or not. */
export const AJV_OPTIONS: Readonly<Options> = { allErrors: true, verbose: true, strict: false };

/** The file the build writes next to this module's compiled form. */
export const PRECOMPILED_FILE = 'schema-validators.generated.cjs';

/** The schemas of the fixed validators, by field of {@link SchemaValidators}. */
export function fixedSchemas(): { pipeline: object; window: object; capabilities: object; limits: object } {
  return {
    pipeline: schema,
    window: { ...schema.definitions.window, definitions: schema.definitions },
    capabilities: { ...schema.definitions.capabilities, definitions: schema.definitions },
    limits: { ...schema.definitions.limits, definitions: schema.definitions },
  };
}

/** The key of a schema among the precompiled validators: the SHA-256 (hex) of its JSON. */
export function schemaKey(schemaObject: object): string {
  return createHash('sha256').update(JSON.stringify(schemaObject)).digest('hex');
}

/** Precompiled validators by schema key; each made on first use. */
export type PrecompiledValidators = ReadonlyMap<string, () => ValidateFunction>;

const require = createRequire(import.meta.url);

/** The build's precompiled validators, or none when this module runs from sources or a build without them. */
export function loadPrecompiled(): PrecompiledValidators {
  try {
    return (require(`./${PRECOMPILED_FILE}`) as { validators: PrecompiledValidators }).validators;
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(PRECOMPILED_FILE)) return new Map();
    throw error;
  }
}

/** Validators over the precompiled ones, Ajv (loaded on first need) for the rest. */
export class SchemaValidators {
  readonly #precompiled: PrecompiledValidators;
  #ajv: Ajv | undefined;
  readonly #connectors = new WeakMap<object, ValidateFunction>();
  /** The whole pipeline file. */
  readonly pipeline: ValidateFunction;
  /** A `window` object. */
  readonly window: ValidateFunction;
  /** A node's `capabilities` object. */
  readonly capabilities: ValidateFunction;
  /** A node's `limits` object. */
  readonly limits: ValidateFunction;

  constructor(precompiled: PrecompiledValidators = loadPrecompiled()) {
    this.#precompiled = precompiled;
    const schemas = fixedSchemas();
    this.pipeline = this.#validatorOf(schemas.pipeline);
    this.window = this.#validatorOf(schemas.window);
    this.capabilities = this.#validatorOf(schemas.capabilities);
    this.limits = this.#validatorOf(schemas.limits);
  }

  /** The validator of a connector's config schema, made the first time it is asked for. */
  connectorConfig(configSchema: object): ValidateFunction {
    let validate = this.#connectors.get(configSchema);
    if (!validate) {
      validate = this.#validatorOf(configSchema);
      this.#connectors.set(configSchema, validate);
    }
    return validate;
  }

  #validatorOf(schemaObject: object): ValidateFunction {
    const precompiled = this.#precompiled.get(schemaKey(schemaObject));
    if (precompiled) return precompiled();
    if (!this.#ajv) {
      const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
      this.#ajv = new AjvClass(AJV_OPTIONS);
    }
    return this.#ajv.compile(schemaObject);
  }
}

let shared: SchemaValidators | undefined;

/**
 * The validators shared by every compilation in this thread, made on first
 * use (a command that never compiles a pipeline never pays for them).
 * Validators keep no state between calls beyond their last `errors`, which
 * callers read at once.
 */
export function sharedValidators(): SchemaValidators {
  shared ??= new SchemaValidators();
  return shared;
}
