/** `host test PLUGIN --input FILE [--expect FILE]`: run one plugin against records, without a pipeline. */
import { dirname, relative, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { CliIo } from './cli-io.js';
import { EXIT, println } from './cli-io.js';
import { defaultCacheDir } from '../engine/engine.js';
import { diffLines, readJsonl, runPlugin } from '../testing/plugin-harness.js';
import type { PluginRunOptions } from '../testing/plugin-harness.js';
import { readSampleConfig } from '../testing/sample-check.js';
import type { PluginKind } from '../contract/plugin.js';
import { WeirError, hasCode, messageOf } from '../errors/errors.js';
import { compileCapabilities, compileLimits, compileWindow } from '../config/compile.js';
import { MAX_JSON_DEPTH, tooDeep } from '../config/json-depth.js';
import type { CapabilityGrants } from '../contract/grants.js';
import type { WindowConfig } from '../config/pipeline-config.js';
import { stderrCacheWarning } from './cache-warnings.js';

/** Help text of `host test`. */
export function testHelp(): string {
  return `Usage: host test PLUGIN [options]

Runs one plugin against records, without a pipeline. PLUGIN is a plugin folder
(with plugin.json; it is built first) or a .wasm file. Processors get the input
records in batches and their output is printed (or compared); sources are
polled until done; sinks are written the input; services are called once per
input record with its value as the payload; aggregators get the input through
their windows (by event time), and print what the windows emit.

Options:
  --input FILE       records to feed, as JSONL (docs/pipeline.md)
  --expect FILE      compare the output with this JSONL file; on a mismatch,
                     print each differing line and exit 1
  --config JSON      the node's config object (default: the config.json beside
                     the --input file, as in a plugin's sample/ folder, else {};
                     at most 64 levels deep)
  --kind KIND        processor, source, sink, service or aggregator (default:
                     plugin.json's kind, else processor)
  --method NAME      the service method to call (services; default "call")
  --window JSON      aggregators: the window, as a node's "window" in
                     pipeline.json (default {"type":"tumbling","sizeMs":60000});
                     every window still open at the end of the input closes
  --capabilities JSON  what the plugin is granted, as a node's "capabilities"
                     in pipeline.json (default: nothing), for example
                     {"filesystem":[{"dir":"lookup"}]} (folders relative to
                     the current directory) or {"http":{"hosts":["127.0.0.1"]}}
  --limits JSON      the plugin's limits, as a node's "limits" in pipeline.json
                     (default: a node's defaults), for example
                     {"maxStateBytes":268435456,"maxMetricNames":5000}
  --batch N          records per call (default 1024)
  --cache-dir DIR    cache folder (as for host run)
  -h, --help         show this help

Without --expect the output records are printed as JSONL on standard output.
Plugin log lines go to standard error. The plugin runs under a pipeline node's
limits (docs/pipeline.md; the defaults unless --limits says otherwise):
memory, CPU budget, output, and the keyed state and metric names the host
keeps for it.

Exit codes: 0 ran (and matched), 1 output differs or the plugin failed,
2 the plugin cannot be built or loaded, 3 usage error.
`;
}

const KINDS: readonly string[] = ['processor', 'source', 'sink', 'service', 'aggregator'];

/** Runs `host test`. */
export async function testCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      input: { type: 'string' },
      expect: { type: 'string' },
      config: { type: 'string' },
      kind: { type: 'string' },
      method: { type: 'string' },
      window: { type: 'string' },
      capabilities: { type: 'string' },
      limits: { type: 'string' },
      batch: { type: 'string' },
      'cache-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(testHelp());
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new WeirError('WEIR_USAGE', 'host test takes one plugin folder or .wasm file: host test PLUGIN --input FILE');
  if (values.kind !== undefined && !KINDS.includes(values.kind)) throw new WeirError('WEIR_USAGE', `--kind must be one of ${KINDS.join(', ')}`);
  const batchSize = values.batch === undefined ? undefined : Number(values.batch);
  if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) throw new WeirError('WEIR_USAGE', '--batch must be a positive integer');
  let config: Record<string, unknown> | undefined;
  if (values.config !== undefined) {
    try {
      config = JSON.parse(values.config) as Record<string, unknown>;
    } catch {
      throw new WeirError('WEIR_USAGE', `--config must be a JSON object, got ${values.config}`);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new WeirError('WEIR_USAGE', '--config must be a JSON object');
    const deep = tooDeep(config);
    if (deep !== undefined) throw new WeirError('WEIR_USAGE', `--config: ${deep} is nested more than ${MAX_JSON_DEPTH} levels deep (as a pipeline file may not be); flatten the config`);
  }

  let window: WindowConfig | undefined;
  if (values.window !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(values.window);
    } catch {
      throw new WeirError('WEIR_USAGE', `--window must be a JSON object such as {"type":"tumbling","sizeMs":60000}, got ${values.window}`);
    }
    const compiled = compileWindow(raw);
    if (!compiled.ok) {
      const where = (pointer: string) => pointer.replace(/^\/window/, '');
      throw new WeirError('WEIR_USAGE', `--window: ${compiled.problems.map((p) => (where(p.pointer) ? `${where(p.pointer)}: ${p.message}` : p.message)).join('; ')}`);
    }
    window = compiled.window;
  }

  const capabilities = values.capabilities === undefined ? undefined : parseCapabilities(values.capabilities, io.cwd);
  const limits = values.limits === undefined ? undefined : parseLimits(values.limits);

  const input = values.input === undefined ? [] : await readJsonl(resolve(io.cwd, values.input)).catch((error: unknown) => {
    throw (error as { code?: string }).code === 'ENOENT' ? new WeirError('WEIR_CONFIG_READ', `input file ${values.input} does not exist`) : error;
  });
  // A sample's config lies beside its input (host new's layout, and what a hot reload's self-test uses).
  if (config === undefined && values.input !== undefined) {
    const folder = dirname(resolve(io.cwd, values.input));
    config = await readSampleConfig(folder).catch((error: unknown) => {
      throw new WeirError('WEIR_USAGE', `without --config, host test takes the config.json beside --input: ${messageOf(error)}; pass --config (e.g. --config '{}') to use another`, {}, { cause: error });
    });
    if (config !== undefined) println(io.stderr, `config: ${relative(io.cwd, resolve(folder, 'config.json'))} (beside --input; --config overrides it)`);
  }
  let result: Awaited<ReturnType<typeof runPlugin>>;
  try {
    result = await runPlugin({
      plugin: resolve(io.cwd, positionals[0]!),
      input,
      kind: values.kind as PluginKind | undefined,
      config,
      method: values.method,
      window,
      capabilities,
      limits,
      batchSize,
      cacheDir: values['cache-dir'] ? resolve(io.cwd, values['cache-dir']) : defaultCacheDir(io.env),
      warn: stderrCacheWarning(io.stderr),
      log: (level, message) => println(io.stderr, `plugin ${level}: ${message}`),
    });
  } catch (error) {
    // A plugin refused for what it imports may just need the grants its node would give.
    if (hasCode(error, 'WEIR_PLUGIN_WORLD_MISMATCH') && capabilities === undefined) {
      const { message, details } = error as WeirError;
      throw new WeirError('WEIR_PLUGIN_WORLD_MISMATCH', `${message} (host test grants no capabilities unless --capabilities says so)`, details, { cause: error });
    }
    throw error;
  }

  if (values.expect === undefined) {
    for (const line of result.lines) println(io.stdout, line);
    return EXIT.ok;
  }
  const expected = (await readFile(resolve(io.cwd, values.expect), 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const differences = diffLines(expected, result.lines);
  if (differences.length === 0) {
    println(io.stdout, `ok: ${result.lines.length} records match ${values.expect}`);
    return EXIT.ok;
  }
  println(io.stdout, `FAIL: ${differences.length} of ${Math.max(expected.length, result.lines.length)} lines differ from ${values.expect}`);
  for (const d of differences.slice(0, 20)) {
    println(io.stdout, `line ${d.line}:`);
    println(io.stdout, `  - expected ${d.expected ?? '(no line)'}`);
    println(io.stdout, `  + actual   ${d.actual ?? '(no line)'}`);
  }
  if (differences.length > 20) println(io.stdout, `... and ${differences.length - 20} more`);
  return EXIT.failed;
}

/** `--capabilities JSON`, checked as pipeline.json would check it. */
function parseCapabilities(text: string, cwd: string): CapabilityGrants {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WeirError('WEIR_USAGE', `--capabilities must be a JSON object such as {"http":{"hosts":["api.example.com"]}}, got ${text}`);
  }
  const compiled = compileCapabilities(raw, cwd);
  if (!compiled.ok) throw new WeirError('WEIR_USAGE', `--capabilities: ${compiled.problems.map((p) => (p.pointer ? `${p.pointer}: ${p.message}` : p.message)).join('; ')}`);
  return compiled.grants;
}

/** `--limits JSON`, checked as a node's `limits` in pipeline.json. */
function parseLimits(text: string): PluginRunOptions['limits'] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WeirError('WEIR_USAGE', `--limits must be a JSON object such as {"maxStateBytes":268435456}, got ${text}`);
  }
  const compiled = compileLimits(raw);
  if (!compiled.ok) throw new WeirError('WEIR_USAGE', `--limits: ${compiled.problems.map((p) => (p.pointer ? `${p.pointer}: ${p.message}` : p.message)).join('; ')}`);
  return compiled.limits;
}
