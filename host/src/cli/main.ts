/**
 * The `host` command: dispatches to one file per command. The only module
 * that calls `process.exit` or listens to process signals.
 */
import { readFileSync } from 'node:fs';
import type { CliIo } from './cli-io.js';
import { EXIT, println } from './cli-io.js';
import { messageOf } from '../errors/errors.js';
import { boundHeapGrowth } from './heap-growth.js';

type Command = (args: string[], io: CliIo) => Promise<number>;

/** Each command's module loads only when it runs, so `host run` starts without the build toolchains. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.js')).runCommand,
  validate: async () => (await import('./validate.js')).validateCommand,
  inspect: async () => (await import('./inspect.js')).inspectCommand,
  new: async () => (await import('./new.js')).newCommand,
  build: async () => (await import('./build.js')).buildCommand,
  test: async () => (await import('./test.js')).testCommand,
  checkpoints: async () => (await import('./checkpoints.js')).checkpointsCommand,
};

/** Help text of `host`. */
export function mainHelp(): string {
  return `Usage: host <command> [options]

Weir runs dataflow pipelines whose steps are sandboxed WebAssembly plugins.

Commands:
  run PIPELINE.json        validate, then run a pipeline to completion
  validate PIPELINE.json   list every problem of a pipeline, run nothing
  inspect PLUGIN.wasm      describe a plugin: kind, world fit, imports, exports
  new KIND NAME --lang L   scaffold a plugin folder (js: any kind; as: processor)
  build DIR...             build plugin folders into .wasm files
  test PLUGIN --input F    run one plugin against records; --expect F compares
  checkpoints PIPELINE.json  list the checkpoint stored for a pipeline; --delete
                           deletes it (the next run starts over)

Options:
  -h, --help               show help (also: host <command> --help)
  -v, --version            print the version

Exit codes: 0 ok (host run: finished, or stopped by a signal and drained),
1 the pipeline failed while running (host test: the output differs), 2 invalid
pipeline or plugin, or a checkpoint that does not fit it, 3 usage error, 4 host run was stopped by a signal and its
drain ran out of time (--drain-timeout), 130 forced exit by a second signal.
`;
}

/** The version in the package.json above this file (source and dist layouts differ in depth). */
function packageVersion(): string {
  for (let url = new URL('./package.json', import.meta.url), i = 0; i < 5; i++, url = new URL('../package.json', url)) {
    try {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'weir' && pkg.version) return pkg.version;
    } catch {
      // not here; look one folder up
    }
  }
  return 'unknown';
}

/** Codes of errors that stop `host run` before any record moves (exit 2, as an invalid pipeline). */
const NOTHING_RAN = new Set(['WEIR_CHECKPOINT_MISMATCH', 'WEIR_CHECKPOINT_SOURCE_CHANGED']);

/** Runs the CLI and returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.stdout.write(mainHelp());
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '-v' || command === '--version') {
    println(io.stdout, packageVersion());
    return EXIT.ok;
  }
  const load = COMMANDS[command];
  if (!load) {
    println(io.stderr, `error WEIR_USAGE: unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')}; see host --help)`);
    return EXIT.usage;
  }
  try {
    return await (await load())(rest, io);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'WEIR_USAGE' || code?.startsWith('ERR_PARSE_ARGS')) {
      println(io.stderr, `error WEIR_USAGE: ${messageOf(error)} (see host ${command} --help)`);
      return EXIT.usage;
    }
    println(io.stderr, `error ${code ?? 'unexpected'}: ${messageOf(error)}`);
    return code === 'WEIR_CONFIG_READ' || code?.startsWith('WEIR_PLUGIN') || NOTHING_RAN.has(code ?? '') ? EXIT.invalid : EXIT.failed;
  }
}

/** The process entry point. */
export async function runProcess(): Promise<void> {
  // A long run's memory stays flat (see heap-growth.ts).
  boundHeapGrowth();
  // One process-wide listener per signal, installed for the whole life of the
  // process: a command's handlers come and go behind it, so there is never a
  // moment (between a handler being removed and the process ending) when a
  // signal takes the default action and ends the process with 143.
  const handlers = new Set<(signal: NodeJS.Signals) => void>();
  let finished: number | undefined;
  const onProcessSignal = (signal: NodeJS.Signals): void => {
    // The command is done and its output complete: end now, with its code.
    if (finished !== undefined) process.exit(finished);
    if (handlers.size > 0) {
      for (const handler of handlers) handler(signal);
      return;
    }
    // No command handles signals now: the default action, as if no listener were here.
    process.off('SIGINT', onProcessSignal);
    process.off('SIGTERM', onProcessSignal);
    process.kill(process.pid, signal);
  };
  process.on('SIGINT', onProcessSignal);
  process.on('SIGTERM', onProcessSignal);
  const io: CliIo = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    onSignal(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
  };
  const code = await main(process.argv.slice(2), io);
  finished = code;
  process.exitCode = code;
  // Forced, or the drain gave up on a node that may still hold the process open (a write that never returns).
  if (code === EXIT.interrupted || code === EXIT.incomplete) process.exit(code);
  // Otherwise end once standard output and error are flushed, rather than when the event loop runs dry: while
  // Node tears an environment down it stops its signal handlers, and a signal arriving then would take the
  // default action (exit 143) although the output is complete.
  await Promise.all([process.stdout, process.stderr].map(flushed));
  process.exit(code);
}

/** Resolves once what was written to `stream` before has gone out (at once when it cannot take more: closed, or its reader gone). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (!stream.writable || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}
