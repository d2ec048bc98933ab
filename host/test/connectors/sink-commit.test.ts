// Sinks at a checkpoint: preCommit makes what was written durable and returns
// a token (the file sink: its length); a file sink resumed from that token
// continues the file, cut back to the token with exactly-once delivery.
import { describe, expect, it } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { mkdtemp, readFile, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { Sink } from '../../src/connectors/connector.js';
import { FileSink, realOutputFiles } from '../../src/connectors/file-sink.js';
import type { OutputFiles } from '../../src/connectors/file-sink.js';
import type { Delivery } from '../../src/config/pipeline-config.js';
import { hasCode } from '../../src/errors/errors.js';
import type { WeirError } from '../../src/errors/errors.js';
import { textRecord } from '../../src/records/record.js';

const records = (from: number, count: number) => Array.from({ length: count }, (_, i) => textRecord(`record ${from + i}`));
const lines = (from: number, count: number) => records(from, count).map((_, i) => `{"value":"record ${from + i}"}\n`).join('');
const json = (bytes: Uint8Array) => JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;

/** A logger that keeps what it was given. */
function recordingLogger() {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => entries.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, entries };
}

/** The `file` sink as a pipeline creates it. */
function fileSink(dir: string, options: { resumeFrom?: Uint8Array; delivery?: Delivery; logger?: Logger } = {}): Sink {
  return builtinConnectors()
    .sink('file')!
    .create({ path: 'out.jsonl' }, { baseDir: dir, node: 'out', logger: options.logger ?? pino({ level: 'silent' }), stdin: Readable.from([]), stdout: process.stdout, resumeFrom: options.resumeFrom, delivery: options.delivery });
}

/** A run that wrote records 0..9, took a checkpoint, wrote 10..14 and died (the sink is left open, as by kill -9). */
async function crashedRun(): Promise<{ dir: string; path: string; token: Uint8Array }> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-sink-ckpt-'));
  const sink = fileSink(dir);
  await sink.write(records(0, 10));
  const token = await sink.preCommit!();
  await sink.write(records(10, 5));
  return { dir, path: join(dir, 'out.jsonl'), token };
}

describe('file sink preCommit', () => {
  it('syncs the file, then returns its length as the token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-sink-ckpt-'));
    const calls: string[] = [];
    const files: OutputFiles = {
      identityOf: realOutputFiles.identityOf,
      open(path, mode) {
        const file = realOutputFiles.open(path, mode);
        return {
          ...file,
          sync: () => {
            calls.push('sync');
            file.sync();
          },
          stat: () => {
            calls.push('stat');
            return file.stat();
          },
        };
      },
    };
    const sink = new FileSink({ path: join(dir, 'out.jsonl'), format: 'jsonl', node: 'out', logger: pino({ level: 'silent' }), files });
    await sink.write(records(0, 3));
    calls.length = 0;
    const token = await sink.preCommit();
    expect(calls).toEqual(['sync', 'stat']);
    expect(json(token)).toEqual({ v: 1, length: Buffer.byteLength(lines(0, 3)), path: join(dir, 'out.jsonl') });
    await sink.close();
  });
});

describe('file sink resumed from a checkpoint', () => {
  it('exactly-once: cuts the file back to the token, so records written again land once', async () => {
    const { dir, path, token } = await crashedRun();
    expect(await readFile(path, 'utf8')).toBe(lines(0, 15));
    const { logger, entries } = recordingLogger();
    const sink = fileSink(dir, { resumeFrom: token, delivery: 'exactly-once', logger });
    expect(await readFile(path, 'utf8')).toBe(lines(0, 10));
    await sink.write(records(10, 10));
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(lines(0, 20));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 30, node: 'out', path, length: Buffer.byteLength(lines(0, 10)), cut: Buffer.byteLength(lines(10, 5)) });
  });

  it('cuts back when no delivery is given (exactly-once is the default)', async () => {
    const { dir, path, token } = await crashedRun();
    const sink = fileSink(dir, { resumeFrom: token });
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(lines(0, 10));
  });

  it.each(['at-least-once', 'none'] as const)('%s: keeps what is there and appends', async (delivery) => {
    const { dir, path, token } = await crashedRun();
    const sink = fileSink(dir, { resumeFrom: token, delivery });
    await sink.write(records(10, 10));
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(lines(0, 15) + lines(10, 10));
  });

  it.each([
    ['after whole lines', 5, '{"value":"rec'],
    ['right after the checkpoint', 0, '{"value":"rec'],
    ['longer than a read chunk', 5, `{"value":"${'x'.repeat(200_000)}`],
  ])('at-least-once: cuts off a partial last line a kill left (%s), keeps the whole ones', async (_, wholeAfter, partial) => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-sink-ckpt-'));
    const sink = fileSink(dir);
    await sink.write(records(0, 10));
    const token = await sink.preCommit!();
    await sink.write(records(10, wholeAfter));
    const path = join(dir, 'out.jsonl');
    await writeFile(path, partial, { flag: 'a' });
    const { logger, entries } = recordingLogger();
    const resumed = fileSink(dir, { resumeFrom: token, delivery: 'at-least-once', logger });
    await resumed.write(records(20, 2));
    await resumed.close();
    expect(await readFile(path, 'utf8')).toBe(lines(0, 10 + wholeAfter) + lines(20, 2));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 30, node: 'out', path, cut: Buffer.byteLength(partial) });
  });

  it('a file shorter than the token: warns and appends', async () => {
    const { dir, path, token } = await crashedRun();
    await truncate(path, Buffer.byteLength(lines(0, 4)));
    const { logger, entries } = recordingLogger();
    const sink = fileSink(dir, { resumeFrom: token, delivery: 'exactly-once', logger });
    await sink.write(records(10, 1));
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(lines(0, 4) + lines(10, 1));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 40, node: 'out', path, length: Buffer.byteLength(lines(0, 10)), size: Buffer.byteLength(lines(0, 4)) });
    expect(entries[0]!.msg).toContain('shorter than the');
  });

  it('without a token, replaces the file as before (checkpoints on or off)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-sink-ckpt-'));
    await writeFile(join(dir, 'out.jsonl'), lines(0, 5));
    const sink = fileSink(dir, { delivery: 'exactly-once' });
    await sink.write(records(7, 1));
    await sink.close();
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe(lines(7, 1));
  });

  it('refuses the token of another path (the sink\'s "path" was edited): the file there is not cut', async () => {
    const { dir, token } = await crashedRun();
    const other = join(dir, 'precious.jsonl');
    await writeFile(other, lines(0, 15));
    let error: unknown;
    try {
      new FileSink({ path: other, format: 'jsonl', node: 'out', logger: pino({ level: 'silent' }), resumeFrom: token, delivery: 'exactly-once' });
    } catch (e) {
      error = e;
    }
    expect(hasCode(error, 'WEIR_CHECKPOINT_MISMATCH')).toBe(true);
    expect((error as WeirError).message).toMatch(/was taken while this sink wrote .*out\.jsonl; it is set to write .*precious\.jsonl now.*--fresh/);
    expect(await readFile(other, 'utf8')).toBe(lines(0, 15));
  });

  it('refuses a token it cannot read, pointing at --fresh', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-sink-ckpt-'));
    let error: unknown;
    try {
      fileSink(dir, { resumeFrom: new TextEncoder().encode('{"v":1,"lines":3}') });
    } catch (e) {
      error = e;
    }
    expect(hasCode(error, 'WEIR_CHECKPOINT_MISMATCH')).toBe(true);
    expect((error as WeirError).message).toContain('--fresh');
    expect((error as WeirError).details).toMatchObject({ node: 'out', path: join(dir, 'out.jsonl') });
  });
});

describe('stdout sink preCommit', () => {
  it('resolves once what was written has left the stream, with an empty token', async () => {
    const held: Array<() => void> = [];
    const out = new Writable({ highWaterMark: 1 << 20, write: (_chunk, _encoding, callback) => void held.push(() => callback()) });
    const sink = builtinConnectors().sink('stdout')!.create({}, { baseDir: tmpdir(), logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: out });
    await sink.write(records(0, 3));
    let committed = false;
    const token = sink.preCommit!().then((t) => ((committed = true), t));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(committed).toBe(false);
    while (!committed) {
      held.splice(0).forEach((release) => release());
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect([...(await token)]).toEqual([]);
  });
});
