/** `host run PIPELINE.json`: validate, then run the pipeline to completion. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from './cli-io.js';
import { EXIT, println } from './cli-io.js';
import { preparePipeline, printProblems } from './prepare-pipeline.js';
import { pipelineWarnings } from '../config/pipeline-warnings.js';
import { Engine, defaultCacheDir } from '../engine/engine.js';
import { builtinConnectors } from '../connectors/builtin.js';
import { createLogger, LOG_LEVELS } from '../telemetry/logger.js';
import type { LogLevel } from '../telemetry/logger.js';
import { PipelineRun } from '../topology/pipeline-run.js';
import { HotReload } from '../reload/hot-reload.js';
import { formatSummary } from '../topology/run-summary.js';
import type { RunSummary } from '../topology/run-summary.js';
import { RunSignals } from './run-signals.js';
import { WeirError } from '../errors/errors.js';
import { openRunCheckpoints } from './run-checkpoints.js';
import type { BeforeSwitchCheck, RunCheckpoints } from '../topology/run-dependencies.js';

/** How long a drain after a signal may take by default (ms); see `--drain-timeout`. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** How `host run` prepares a run, beyond the pipeline file: what the command line asked for. */
export interface RunOptions {
  /**
   * `--fresh`: delete the pipeline's stored checkpoint before the run, so it
   * starts from the beginning instead of resuming (no effect without a
   * `checkpoint` block).
   */
  readonly fresh: boolean;
}

/** Help text of `host run`. */
export function runHelp(): string {
  const connectors = builtinConnectors().list().map((c) => `  ${c.kind.padEnd(6)} ${c.name.padEnd(10)} ${c.description}`);
  return `Usage: host run PIPELINE.json [options]

Validates the pipeline (as \`host validate\` does) and, if it is valid, runs it
until every source is exhausted. With a "checkpoint" block it resumes where the
last checkpoint of the pipeline left off (a run that reached the end of its
input resumes there too: only input appended since is read; --fresh starts
over). SIGINT or SIGTERM (from the moment the command
starts) stops the sources and drains what is in flight, then prints the
summary; a second signal exits at once. Logs (JSON lines) and the summary at
the end go to standard error, so standard output stays free for the stdout
sink.

Options:
  --summary-json FILE   also write the summary as JSON to FILE
  --drain-timeout MS    how long the drain after a signal may take (default
                        ${DEFAULT_DRAIN_TIMEOUT_MS}; 0 = no limit). When it runs out, what is
                        still queued is dropped, and the summary says how
                        many records were not written, per node (a write in
                        progress finishes first); the exit code is then 4.
                        With checkpoints, a drain that ended in time is
                        followed by the final checkpoint, which this limit
                        does not cut short (one that ran out writes none)
  --fresh               with a "checkpoint" block: delete the stored
                        checkpoint and start from the beginning instead of
                        resuming from it (docs/pipeline.md, "Checkpoints";
                        \`host checkpoints PIPELINE.json\` shows what is stored)
  --log-level LEVEL     ${LOG_LEVELS.join(', ')} (default: info)
  --cache-dir DIR       cache folder: transpiled plugins, and the host's
                        compiled JavaScript (default: $WEIR_CACHE_DIR, else
                        $XDG_CACHE_HOME/weir, else ~/.cache/weir)
  --no-watch            do not hot-reload. By default, a plugin .wasm that
                        changes while running is checked (world, grants, an
                        instance under the node's limits with its config,
                        and the sample beside its source folder if any) and,
                        if it passes, serves from the next batch; edits to
                        PIPELINE.json apply as a diff: plugin changes switch
                        the same way, nodes added, removed or rewired apply
                        after the sources pause and in-flight records drain.
                        Anything that fails a check, or cannot change while
                        running, is refused whole and the pipeline stays as
                        it was (docs/pipeline.md, "Hot reload")
  -h, --help            show this help

Built-in connectors (use as "connector": NAME):
${connectors.join('\n')}

Exit codes: 0 finished (or stopped by a signal and drained), 1 the pipeline
failed while running, 2 the pipeline or a plugin is invalid, or a stored
checkpoint does not fit the pipeline or its input (nothing ran), 3 usage error, 4 stopped by a signal but the drain ran out of time (records
were not all written; see the summary), 130 a second signal forced the exit.
`;
}

/** Runs `host run`. */
export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'summary-json': { type: 'string' },
      'drain-timeout': { type: 'string', default: String(DEFAULT_DRAIN_TIMEOUT_MS) },
      'log-level': { type: 'string', default: 'info' },
      'cache-dir': { type: 'string' },
      watch: { type: 'boolean', default: true },
      fresh: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowNegative: true,
  });
  if (values.help) {
    io.stdout.write(runHelp());
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new WeirError('WEIR_USAGE', 'host run takes exactly one pipeline file: host run PIPELINE.json');
  const level = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new WeirError('WEIR_USAGE', `--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const drainTimeoutMs = Number(values['drain-timeout']);
  if (!/^\d+$/.test(values['drain-timeout']!) || !Number.isSafeInteger(drainTimeoutMs)) throw new WeirError('WEIR_USAGE', `--drain-timeout must be a whole number of milliseconds (0 = no limit), not "${values['drain-timeout']}"`);

  const options: RunOptions = { fresh: values.fresh === true };
  const file = resolve(io.cwd, positionals[0]!);
  const logger = createLogger(level, io.logs);
  const connectors = builtinConnectors();
  const engine = new Engine({ cacheDir: values['cache-dir'] ? resolve(io.cwd, values['cache-dir']) : defaultCacheDir(io.env), warn: (details, message) => logger.warn(details, message) });

  // Signals are handled from the start to the end of the command: one that
  // comes before the pipeline runs stops it as soon as it starts (so it still
  // ends with a summary); one that comes after the run ended changes nothing.
  const signals = new RunSignals(logger, drainTimeoutMs);
  const removeSignalHandler = io.onSignal((signal) => signals.received(signal));
  let hotReload: HotReload | undefined;
  let checkpoints: RunCheckpoints | undefined;

  /** Prepares and starts the pipeline, then watches its files; resolves with the run's summary. */
  const runPipeline = async (): Promise<RunSummary> => {
    const loadStarted = performance.now();
    const prepared = await preparePipeline(file, engine, connectors);
    if (!prepared.ok) {
      printProblems(io.stderr, file, io.cwd, prepared.problems);
      println(io.stderr, 'nothing was run; fix the problems above (`host validate` lists them too)');
      throw INVALID;
    }
    for (const warning of pipelineWarnings(prepared.config)) logger.warn({ pointer: warning.pointer, hint: warning.hint }, warning.message);
    checkpoints = await openRunCheckpoints(prepared.config, options, logger);
    for (const node of prepared.config.nodes) {
      const module = prepared.modules.get(node.id);
      if (!module || node.implementation.type !== 'plugin') continue;
      logger.info(
        { node: node.id, plugin: node.implementation.file, binary: module.binary, sha256: module.sha256.slice(0, 12), cacheHit: module.cacheHit, transpileMs: Math.round(module.transpileMs) },
        module.binary === 'component' ? (module.cacheHit ? 'plugin loaded from the transpile cache' : 'plugin transpiled and cached') : 'plugin loaded',
      );
    }

    const run = await PipelineRun.start(prepared.config, { modules: prepared.modules, connectors, logger, stdin: io.stdin, stdout: io.stdout, checkBeforeSwitch: sampleSelfTestOnDemand, ...(checkpoints ? { checkpoints } : {}) });
    logger.info({ pipeline: prepared.config.name, startMs: Math.round(performance.now() - loadStarted) }, 'pipeline running');
    signals.attach(run);
    const running = new Map<string, string>();
    for (const node of prepared.config.nodes) {
      const module = prepared.modules.get(node.id);
      if (module && node.implementation.type === 'plugin') running.set(node.implementation.path, module.sha256);
    }
    // A build that lands while the watcher gets ready is caught by its digest check.
    if (values.watch) hotReload = await HotReload.start({ run, engine, running, logger, pipeline: { file, prepare: () => preparePipeline(file, engine, connectors) } });
    return run.done;
  };

  let forced = false;
  try {
    const outcome = await Promise.race([runPipeline(), signals.forced]);
    if (typeof outcome === 'number') {
      forced = true;
      return outcome;
    }
    // The run is over: a signal from now on (once the summary shows, say) changes nothing.
    signals.finish();
    println(io.stderr, formatSummary(outcome));
    if (values['summary-json']) {
      await writeFile(resolve(io.cwd, values['summary-json']), JSON.stringify(outcome, null, 2) + '\n');
    }
    if (outcome.status === 'failed') {
      println(io.stderr, `error ${outcome.error?.code}: ${outcome.error?.message}`);
      return EXIT.failed;
    }
    return outcome.drain ? EXIT.incomplete : EXIT.ok;
  } catch (error) {
    if (error === INVALID) return EXIT.invalid;
    throw error;
  } finally {
    signals.finish();
    await hotReload?.close();
    // A forced exit leaves the run as it is, its checkpoint store too (closing it under the run would fail the
    // checkpoint in flight, loudly): the process exits, and a write it cut short is rolled back, as after kill -9.
    if (!forced) await checkpoints?.store.close();
    removeSignalHandler();
  }
}

/** The sample self-test of a hot reload (testing/sample-check.ts), loaded with the plugin harness it runs on at the first reload. */
const sampleSelfTestOnDemand: BeforeSwitchCheck = async (module, node, callService) => (await import('../testing/sample-check.js')).sampleSelfTest(module, node, callService);

/** Thrown inside `runCommand` when the pipeline is invalid (the problems are printed already). */
const INVALID = Symbol('invalid');
