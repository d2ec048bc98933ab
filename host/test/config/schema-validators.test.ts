// The schema validators `npm run build` precompiles (scripts/generate-schema-validators.js): the build's file
// must cover every schema the host validates with, as it is now, and report exactly what Ajv compiling the
// schema at run time reports.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { compilePipeline } from '../../src/config/compile.js';
import { PRECOMPILED_FILE, SchemaValidators, fixedSchemas, schemaKey } from '../../src/config/schema-validators.js';
import type { PrecompiledValidators } from '../../src/config/schema-validators.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';

const repo = join(import.meta.dirname, '../../..');
const builtFile = join(repo, 'dist/config', PRECOMPILED_FILE);

/** The build's precompiled validators (dist/ is built before the tests: `npm test` runs `npm run build`). */
function builtValidators(): PrecompiledValidators {
  if (!existsSync(builtFile)) throw new Error(`${builtFile} is missing: run \`npm run build\``);
  return (createRequire(import.meta.url)(builtFile) as { validators: PrecompiledValidators }).validators;
}

/** Every schema the host validates pipeline files with, from the sources. */
function hostSchemas(): Array<[string, object]> {
  return [...Object.entries(fixedSchemas()), ...builtinConnectors().list().map((spec): [string, object] => [`${spec.kind} connector "${spec.name}"`, spec.configSchema])];
}

/** Pipeline files, good and bad: every example and every golden bad config. */
function pipelineFiles(): string[] {
  const examples = readdirSync(join(repo, 'examples')).map((name) => join(repo, 'examples', name, 'pipeline.json'));
  const bad = join(repo, 'host/test/fixtures/bad-configs');
  return [...examples, ...readdirSync(bad).map((name) => join(bad, name, 'pipeline.json'))].filter((file) => existsSync(file));
}

describe('precompiled schema validators', () => {
  it('the build has one for every schema the host validates with, as the sources have it now', () => {
    const built = builtValidators();
    const stale = hostSchemas().filter(([, schema]) => !built.has(schemaKey(schema))).map(([name]) => name);
    expect(stale, `${PRECOMPILED_FILE} is stale for these schemas: run \`npm run build\``).toEqual([]);
  });

  it('report the same problems as validators Ajv compiles at run time', () => {
    const precompiled = new SchemaValidators(builtValidators());
    const compiled = new SchemaValidators(new Map());
    const files = pipelineFiles();
    expect(files.length).toBeGreaterThan(10);
    let invalid = 0;
    for (const file of files) {
      const raw = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      const options = { file, connectors: builtinConnectors() };
      const viaBuild = compilePipeline(raw, { ...options, validators: precompiled });
      const viaAjv = compilePipeline(raw, { ...options, validators: compiled });
      expect(viaBuild, file).toEqual(viaAjv);
      if (!viaBuild.ok) invalid++;
    }
    expect(invalid).toBeGreaterThanOrEqual(5);
  });

  it('give the same errors, schema parts included, for the window, capabilities and limits objects', () => {
    const precompiled = new SchemaValidators(builtValidators());
    const compiled = new SchemaValidators(new Map());
    const inputs: Array<[keyof ReturnType<typeof fixedSchemas>, unknown]> = [
      ['window', { type: 'tumbling', sizeMs: -1, extra: true }],
      ['window', { type: 'hopping', slideMs: 0 }],
      ['capabilities', { filesystem: [{ path: 3 }], http: { hosts: 'x' } }],
      ['limits', { memoryMb: 'a lot', cpu: { mode: 'sometimes' } }],
    ];
    for (const [field, input] of inputs) {
      const viaBuild = precompiled[field] as ValidateFunction;
      const viaAjv = compiled[field] as ValidateFunction;
      expect(viaBuild(input)).toBe(false);
      expect(viaAjv(input)).toBe(false);
      expect(viaBuild.errors, field).toEqual(viaAjv.errors);
    }
  });

  it('the built module compiles a schema that has no precompiled entry with Ajv', async () => {
    // dist/, not the sources: tsc's output of the fallback is what runs when the build's file is stale.
    const built = (await import(pathToFileURL(join(repo, 'dist/config/schema-validators.js')).href)) as typeof import('../../src/config/schema-validators.js');
    const validators = new built.SchemaValidators(new Map());
    expect(validators.pipeline({ name: 'x', nodes: [{ id: 's', kind: 'source', connector: 'file' }] })).toBe(true);
    expect(validators.pipeline({ name: 'x', nodes: [] })).toBe(false);
  });

  it('serve a schema from its precompiled entry, and compile one that has none', () => {
    const marker: ValidateFunction = Object.assign(() => true, { errors: null }) as unknown as ValidateFunction;
    const limits = fixedSchemas().limits;
    const validators = new SchemaValidators(new Map([[schemaKey(limits), () => marker]]));
    expect(validators.limits).toBe(marker);
    // No entry for the pipeline schema: compiled with Ajv, and it validates.
    expect(validators.pipeline({ name: 'x', nodes: [{ id: 's', kind: 'source', connector: 'file' }] })).toBe(true);
    expect(validators.pipeline({ name: 'x', nodes: [] })).toBe(false);
    const fileSource = builtinConnectors().source('file')!;
    const config = validators.connectorConfig(fileSource.configSchema);
    expect(config({ path: 'in.jsonl' })).toBe(true);
    expect(config({ path: 'in.jsonl', bogus: 1 })).toBe(false);
  });
});
