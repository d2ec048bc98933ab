/** `host validate PIPELINE.json`: report every problem at once, run nothing. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from './cli-io.js';
import { EXIT, println } from './cli-io.js';
import { preparePipeline, printProblems } from './prepare-pipeline.js';
import { Engine, defaultCacheDir } from '../engine/engine.js';
import { builtinConnectors } from '../connectors/builtin.js';
import { WeirError } from '../errors/errors.js';
import { pipelineWarnings } from '../config/pipeline-warnings.js';
import { stderrCacheWarning } from './cache-warnings.js';

/** Help text of `host validate`. */
export function validateHelp(): string {
  return `Usage: host validate PIPELINE.json [options]

Checks a pipeline without running it and lists every problem at once, each
with the JSON pointer of the offending value and a hint: schema violations,
duplicate or unknown node ids, cycles, sources with inputs, sinks used as
inputs, unknown connectors and bad connector config, missing plugin files,
and plugins whose world does not fit their node kind. A valid pipeline may
still get warnings (nodes whose records reach no sink; with a "checkpoint"
block, nodes a restore cannot make exactly-once: stdout and plugin sinks,
plugins with HTTP or writable directories, windows over records without
event time, stdin; parallel processors whose instances share the main
thread); they do not change the exit code.

Options:
  --json             print {"ok": bool, "problems": [{pointer, message, hint}], "warnings": [...]}
  --cache-dir DIR    cache folder (as for host run)
  -h, --help         show this help

Exit codes: 0 valid, 2 invalid, 3 usage error.
`;
}

/** Runs `host validate`. */
export async function validateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, 'cache-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(validateHelp());
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new WeirError('WEIR_USAGE', 'host validate takes exactly one pipeline file: host validate PIPELINE.json');
  const file = resolve(io.cwd, positionals[0]!);
  const engine = new Engine({ cacheDir: values['cache-dir'] ? resolve(io.cwd, values['cache-dir']) : defaultCacheDir(io.env), warn: stderrCacheWarning(io.stderr) });
  const prepared = await preparePipeline(file, engine, builtinConnectors());
  const warnings = prepared.ok ? pipelineWarnings(prepared.config) : [];
  if (values.json) {
    println(io.stdout, JSON.stringify({ ok: prepared.ok, problems: prepared.ok ? [] : prepared.problems, warnings }, null, 2));
  } else if (prepared.ok) {
    println(io.stdout, `${positionals[0]}: valid (${prepared.config.nodes.length} nodes)${warnings.length > 0 ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : ''}`);
    for (const w of warnings) {
      println(io.stdout, `  warning ${w.pointer}: ${w.message}`);
      if (w.hint) println(io.stdout, `      hint: ${w.hint}`);
    }
  } else {
    printProblems(io.stdout, file, io.cwd, prepared.problems);
  }
  return prepared.ok ? EXIT.ok : EXIT.invalid;
}
