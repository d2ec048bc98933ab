// Positions of the stdin source (lines taken; resuming drops that many) and
// of the generator (records produced; resuming goes on with the same sequence).
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { Source } from '../../src/connectors/connector.js';
import { hasCode } from '../../src/errors/errors.js';
import type { StreamRecord } from '../../src/records/record.js';
import { recordsOf } from '../../src/records/batch.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const json = (position: Uint8Array | undefined) => JSON.parse(text(position!)) as Record<string, unknown>;

/** A logger that keeps what it was given. */
function recordingLogger() {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => entries.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, entries };
}

function create(kind: 'stdin' | 'generator', config: Record<string, unknown>, options: { stdin?: Readable; resumeFrom?: Uint8Array; logger?: Logger } = {}): Source {
  return builtinConnectors()
    .source(kind)!
    .create(config, {
      baseDir: tmpdir(),
      node: 'in',
      logger: options.logger ?? pino({ level: 'silent' }),
      stdin: options.stdin ?? Readable.from([]),
      stdout: process.stdout,
      resumeFrom: options.resumeFrom,
    });
}

async function pollUntil(source: Source, want: number, max: number): Promise<StreamRecord[]> {
  const records: StreamRecord[] = [];
  while (records.length < want) {
    const result = await source.poll(Math.min(max, want - records.length));
    records.push(...recordsOf(result.records));
    if (result.done) break;
  }
  return records;
}

const input = (lines: string[]) => Readable.from([Buffer.from(lines.join(''))]);

describe('stdin source position', () => {
  const lines = ['{"value":"a"}\n', '\n', '{"value":"b"}\r\n', '{"value":"c"}\n', '{"value":"d"}'];

  it('counts the lines taken (a blank line skipped counts), not the lines read ahead', async () => {
    const source = create('stdin', {}, { stdin: input(lines) });
    expect(json(source.position!())).toEqual({ v: 1, lines: 0 });
    expect(recordsOf((await source.poll(1)).records).map((r) => text(r.value))).toEqual(['a']);
    expect(json(source.position!())).toEqual({ v: 1, lines: 1 });
    expect((await pollUntil(source, 1, 1)).map((r) => text(r.value))).toEqual(['b']);
    expect(json(source.position!())).toEqual({ v: 1, lines: 3 });
    await source.close();
  });

  it('resumed, drops the lines the position counts and goes on with the next', async () => {
    for (let split = 0; split <= 4; split++) {
      const first = create('stdin', {}, { stdin: input(lines) });
      const before = await pollUntil(first, split, 1);
      const position = first.position!()!;
      await first.close();
      const resumed = create('stdin', {}, { stdin: input(lines), resumeFrom: position });
      const after = await pollUntil(resumed, Number.POSITIVE_INFINITY, 10);
      expect([...before, ...after].map((r) => text(r.value)), `split after ${split} records`).toEqual(['a', 'b', 'c', 'd']);
    }
  });

  it('resumed, stands at the resume point before its first poll', async () => {
    const resumed = create('stdin', {}, { stdin: input(lines), resumeFrom: new TextEncoder().encode('{"v":1,"lines":3}') });
    expect(json(resumed.position!())).toEqual({ v: 1, lines: 3 });
    expect(recordsOf((await resumed.poll(1)).records).map((r) => text(r.value))).toEqual(['c']);
    expect(json(resumed.position!())).toEqual({ v: 1, lines: 4 });
  });

  it('a generator resumed stands at the resume point before its first poll', () => {
    const resumed = create('generator', { count: 10 }, { resumeFrom: new TextEncoder().encode('{"v":1,"seq":4}') });
    expect(json(resumed.position!())).toEqual({ v: 1, seq: 4 });
  });

  it('numbers lines from the start of the input after resuming', async () => {
    const resumed = create('stdin', {}, { stdin: input(['{"value":"a"}\n', '{"value":"b"}\n', 'bad\n']), resumeFrom: new TextEncoder().encode('{"v":1,"lines":1}') });
    expect(recordsOf((await resumed.poll(10)).records).map((r) => text(r.value))).toEqual(['b']);
    await expect(resumed.poll(10)).rejects.toThrow('stdin:3: the line is not valid JSON');
  });

  it('warns when the input ends before the lines to drop', async () => {
    const { logger, entries } = recordingLogger();
    const resumed = create('stdin', {}, { stdin: input(['{"value":"a"}\n']), resumeFrom: new TextEncoder().encode('{"v":1,"lines":5}'), logger });
    const result = await resumed.poll(10);
    expect({ records: result.records.length, done: result.done }).toEqual({ records: 0, done: true });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ node: 'in', linesExpected: 5, lines: 1 });
    expect(entries[0]!.msg).toContain('stdin ended after 1 lines, but the checkpoint had read 5');
  });

  it('refuses a position it cannot read', () => {
    let error: unknown;
    try {
      create('stdin', {}, { resumeFrom: new TextEncoder().encode('{"v":1,"seq":3}') });
    } catch (e) {
      error = e;
    }
    expect(hasCode(error, 'WEIR_CHECKPOINT_MISMATCH')).toBe(true);
  });
});

describe('generator source position', () => {
  const view = (r: StreamRecord) => ({ key: r.key && text(r.key), value: text(r.value), eventTime: r.eventTime });

  it('is the number of records produced, and resuming from it goes on with the same records', async () => {
    for (const keyCardinality of [0, 7]) {
      const config = { count: 500, keyCardinality, seed: 42, valueSize: 60 };
      const whole = (await pollUntil(create('generator', config), Number.POSITIVE_INFINITY, 64)).map(view);
      expect(whole).toHaveLength(500);
      for (const split of [0, 1, 137, 499, 500]) {
        const first = create('generator', config);
        const before = await pollUntil(first, split, 50);
        const position = first.position!()!;
        expect(json(position)).toEqual({ v: 1, seq: split });
        const resumed = create('generator', config, { resumeFrom: position });
        const after = await pollUntil(resumed, Number.POSITIVE_INFINITY, 64);
        expect([...before, ...after].map(view), `keys ${keyCardinality}, split ${split}`).toEqual(whole);
      }
    }
  });

  it('throttled, a resumed generator counts its rate from where it resumed', async () => {
    const resumed = create('generator', { count: 0, ratePerSec: 1000 }, { resumeFrom: new TextEncoder().encode('{"v":1,"seq":1000000}') });
    const records: StreamRecord[] = [];
    // Without counting from the resume point it would owe 1,000,000 records' worth of time (1000 s).
    for (let polls = 0; records.length === 0 && polls < 10_000; polls++) records.push(...recordsOf((await resumed.poll(10)).records));
    expect(records.length).toBeGreaterThan(0);
    expect(text(records[0]!.value)).toMatch(/^\{"seq":1000000,/);
  });
});
