/**
 * The self-test a hot reload runs before a processor switches to a new build.
 * A plugin file `<dir>/<name>.wasm` built from a folder beside it
 * (`<dir>/<name>/`, as `host new` + `host build` lay it out) may carry a
 * sample there:
 *
 * - `sample/input.jsonl`: records to feed;
 * - `sample/expected.jsonl`: the output they must give;
 * - `sample/config.json` (optional): the config the sample was made with,
 *   `{}` when absent. The node's own config is not used: the expected output
 *   belongs to the sample, not to the node.
 *
 * The build runs under the node's limits and grants; any difference, error
 * or trap fails the check with the differing lines.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { PluginModule } from '../engine/engine.js';
import type { CapabilityGrants } from '../contract/grants.js';
import type { ServiceCaller } from '../linker/host-context.js';
import type { LimitsSettings } from '../contract/limits.js';
import type { StreamRecord } from '../records/record.js';
import { WeirError, messageOf } from '../errors/errors.js';
import { MAX_JSON_DEPTH, tooDeep } from '../config/json-depth.js';
import type { BeforeSwitchCheck } from '../topology/pipeline-run.js';
import { diffLines, readJsonl, runModule } from './plugin-harness.js';

/** A plugin's sample, as found beside its file. */
export interface PluginSample {
  folder: string;
  input: StreamRecord[];
  expected: string[];
  config: Record<string, unknown>;
}

/** The sample folder of `pluginFile` (`<dir>/<name>/sample`). */
export function sampleFolderOf(pluginFile: string): string {
  return join(dirname(pluginFile), basename(pluginFile, '.wasm'), 'sample');
}

/**
 * Reads the sample of `pluginFile`; `undefined` when it has none (no
 * input.jsonl or expected.jsonl). A sample file that exists but cannot be
 * read, and a config.json that is not a JSON object or nests more than
 * {@link MAX_JSON_DEPTH} levels deep, are errors naming the file.
 *
 * @throws WeirError `WEIR_PLUGIN_SELF_TEST_FAILED`
 */
export async function findSample(pluginFile: string): Promise<PluginSample | undefined> {
  const folder = sampleFolderOf(pluginFile);
  const expectedText = await readUnlessMissing(join(folder, 'expected.jsonl'), folder, (file) => readFile(file, 'utf8'));
  if (expectedText === undefined) return undefined;
  const input = await readUnlessMissing(join(folder, 'input.jsonl'), folder, readJsonl);
  if (input === undefined) return undefined;
  const config = (await readSampleConfig(folder)) ?? {};
  return { folder, input, expected: expectedText.split('\n').filter((l) => l.trim() !== ''), config };
}

/**
 * The `config.json` of a sample folder; `undefined` when there is none. One
 * that is not a JSON object, or nests more than {@link MAX_JSON_DEPTH} levels
 * deep, is an error naming the file.
 *
 * @throws WeirError `WEIR_PLUGIN_SELF_TEST_FAILED`
 */
export async function readSampleConfig(folder: string): Promise<Record<string, unknown> | undefined> {
  const configFile = join(folder, 'config.json');
  const configText = await readUnlessMissing(configFile, folder, (file) => readFile(file, 'utf8'));
  if (configText === undefined) return undefined;
  let config: unknown;
  try {
    config = JSON.parse(configText);
  } catch (error) {
    throw new WeirError('WEIR_PLUGIN_SELF_TEST_FAILED', `sample ${configFile} is not JSON: ${messageOf(error)}`, { folder, file: configFile });
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new WeirError('WEIR_PLUGIN_SELF_TEST_FAILED', `sample ${configFile} must hold a JSON object (the plugin's config), not ${Array.isArray(config) ? 'an array' : String(config === null ? 'null' : typeof config)}`, { folder, file: configFile });
  }
  const deep = tooDeep(config);
  if (deep !== undefined) {
    throw new WeirError('WEIR_PLUGIN_SELF_TEST_FAILED', `sample ${configFile}: ${deep} is nested more than ${MAX_JSON_DEPTH} levels deep (as a pipeline file may not be); flatten the sample's config`, { folder, file: configFile, pointer: deep });
  }
  return config as Record<string, unknown>;
}

/** `read(file)`, or `undefined` when the file or its folder does not exist; any other failure is an error naming it. */
async function readUnlessMissing<T>(file: string, folder: string, read: (file: string) => Promise<T>): Promise<T | undefined> {
  try {
    return await read(file);
  } catch (error) {
    // ENOTDIR: a file stands where the folder would be (`<name>` or `sample` is a file), so there is no sample.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new WeirError('WEIR_PLUGIN_SELF_TEST_FAILED', `sample ${file} cannot be read: ${messageOf(error)}`, { folder, file }, { cause: error });
  }
}

/**
 * The sample self-test as `host run` hands it to a run
 * (`checkBeforeSwitch`): processors with a sample must pass it, under the
 * node's limits and grants; other nodes, and plugins without a sample, pass.
 */
export const sampleSelfTest: BeforeSwitchCheck = async (module, node, callService) => {
  if (node.kind !== 'processor' || node.window) return 0;
  const sample = await findSample(module.file);
  if (!sample) return 0;
  return checkSample(module, sample, { limits: node.limits, capabilities: node.capabilities, callService });
};

/** What a processor's sample check runs under. */
export interface SampleCheckOptions {
  limits: LimitsSettings;
  capabilities: CapabilityGrants;
  callService: ServiceCaller;
}

/**
 * Runs `module` as a processor on `sample` and throws
 * `WEIR_PLUGIN_SELF_TEST_FAILED` unless the output matches. Returns the
 * number of records checked.
 */
export async function checkSample(module: PluginModule, sample: PluginSample, options: SampleCheckOptions): Promise<number> {
  const where = { plugin: module.file, sample: sample.folder };
  let lines: string[];
  try {
    ({ lines } = await runModule(module, 'processor', { input: sample.input, config: sample.config, ...options }));
  } catch (error) {
    throw new WeirError('WEIR_PLUGIN_SELF_TEST_FAILED', `${module.file} failed on its sample (${sample.folder}): ${messageOf(error)}`, where, { cause: error });
  }
  const differences = diffLines(sample.expected, lines);
  if (differences.length > 0) {
    const shown = differences.slice(0, 3).map((d) => `line ${d.line}: expected ${d.expected ?? '(no line)'}, got ${d.actual ?? '(no line)'}`);
    const more = differences.length > 3 ? `; ${differences.length - 3} more` : '';
    throw new WeirError('WEIR_PLUGIN_SELF_TEST_FAILED', `${module.file} does not give its sample's expected output (${sample.folder}): ${shown.join('; ')}${more}`, { ...where, differences: differences.length });
  }
  return sample.input.length;
}
