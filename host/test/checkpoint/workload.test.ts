// The checkpoint acceptance workload's own checks (scripts/checkpoint-workload.js),
// so a red acceptance test means the engine, not the harness: the input is the
// same bytes in any slice, keys come in whole rounds, and the at-least-once
// accounting counts repeats per restart and bounds them as it should.
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ackProblems, committedSinkBytes, duplicatesPerKill, inputLines, killPoints, parseLines, repeatBounds, seededRandom, workloadWindow } from '../../../scripts/checkpoint-workload.js';
import type { LoopRun } from '../../../scripts/checkpoint-workload.js';

const line = (seq: number, count = 1) => `{"key":"k${seq % 3}","value":"1","headers":{"seq":"${seq}","count":"${count}"}}\n`;
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => line(from + i)).join('');
const bytes = (text: string) => Buffer.byteLength(text);

describe('the checkpoint workload', () => {
  it('writes the same bytes for a slice as for the whole input, and every round of keys holds each key once', () => {
    const whole = inputLines(0, 2000);
    expect(inputLines(0, 1000) + inputLines(1000, 2000)).toBe(whole);
    const records = parseLines(whole);
    for (let round = 0; round < 2000 / 101 - 1; round++) {
      const keys = new Set(records.slice(round * 101, (round + 1) * 101).map((r) => r.key));
      expect(keys.size).toBe(101);
    }
    // Event times never go back further than the window's allowed lateness.
    let high = 0;
    for (const r of records) {
      high = Math.max(high, r.eventTime!);
      expect(high - r.eventTime!).toBeLessThan(workloadWindow().allowedLatenessMs);
    }
  });

  it('kill points are sorted shares inside the range, the same for the same seed', () => {
    const points = killPoints(seededRandom(7), 20);
    expect(points).toEqual([...points].sort((a, b) => a - b));
    expect(points.every((p) => p >= 0.1 && p < 0.85)).toBe(true);
    expect(killPoints(seededRandom(7), 20)).toEqual(points);
  });

  it('counts the repeats of each restart and bounds them by what came after the committed token', () => {
    // Run 1 writes 0..39 and is killed with 0..29 committed; run 2 replays 30..69 and is killed with
    // 0..59 committed (token unread); run 3 replays 60..99.
    const first = lines(0, 40);
    const second = lines(30, 70);
    const text = first + second + lines(60, 100);
    const killed: Array<LoopRun<number | undefined>> = [
      { killed: true, startBytes: 0, killedAt: bytes(first), endBytes: bytes(first), exit: { code: null, signal: 'SIGKILL' }, info: bytes(lines(0, 30)), output: '' },
      { killed: true, startBytes: bytes(first), killedAt: bytes(first + second), endBytes: bytes(first + second), exit: { code: null, signal: 'SIGKILL' }, info: undefined, output: '' },
    ];
    const result = duplicatesPerKill(text, killed.map((r) => r.endBytes), 100);
    expect(result).toEqual({ perKill: [10, 10], missing: [], distinct: 100, problems: [] });
    // Kill 1: 10 lines after the token. Kill 2, no token: the lines from where run 2 resumed (the
    // first seq 30, in run 1's part) to the kill, 50.
    expect(repeatBounds(Buffer.from(text), killed).map((b) => b.bound)).toEqual([10, 50]);
  });

  it('reports a record missing and a repeat that differs', () => {
    const text = lines(0, 10) + line(5, 2) + lines(11, 20);
    const result = duplicatesPerKill(text, [bytes(lines(0, 10))], 20);
    expect(result.missing).toEqual([10]);
    expect(result.problems).toHaveLength(1);
    expect(() => parseLines('{"value":"a"}\n{"val')).toThrow(/output:2 is not a JSON record/);
  });

  it("reads a file sink's commit token from a checkpoint database (the store's parts table), undefined when there is none", async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'weir-ckpt-token-')), 'checkpoint.db');
    expect(await committedSinkBytes(file, 'counts')).toBeUndefined();
    const db = new DatabaseSync(file);
    db.exec('CREATE TABLE parts (node TEXT NOT NULL, lane INTEGER NOT NULL, part TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (node, lane, part))');
    const insert = db.prepare('INSERT INTO parts VALUES (?, 0, ?, ?)');
    insert.run('counts', 'sink', Buffer.from('{"v":1,"length":12345}'));
    insert.run('in', 'source', Buffer.from('{"v":1,"offset":99}'));
    db.close();
    expect(await committedSinkBytes(file, 'counts')).toBe(12345);
    expect(await committedSinkBytes(file, 'windows')).toBeUndefined();
  });

  it('finds a plugin source opened before a position acknowledged earlier, acks going back, and no acks at all', () => {
    const log = (...msgs: string[]) => msgs.map((msg) => JSON.stringify({ level: 30, node: 'in', source: 'plugin', msg })).join('\n') + '\nnot json\n';
    const good = [{ output: log('opened at start', 'acked 100', 'acked 200') }, { output: log('opened at 200', 'acked 300') }];
    expect(ackProblems(good)).toEqual([]);
    const early = [{ output: log('opened at start', 'acked 100', 'acked 200') }, { output: log('opened at 100', 'acked 300') }];
    expect(ackProblems(early)).toEqual(['run 2 opened at 100, but 200 was acknowledged before the crash: an ack ran ahead of a durable checkpoint']);
    expect(ackProblems([{ output: log('opened at start', 'acked 200', 'acked 100') }])).toEqual(["run 1's acks went back: 200, 100"]);
    expect(ackProblems([{ output: log('opened at start') }])).toEqual(['the source was never acknowledged']);
  });
});
