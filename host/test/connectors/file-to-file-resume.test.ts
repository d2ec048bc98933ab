// A file-to-file copy that "crashes" after random checkpoints and resumes from
// the last one (source position + sink token taken at the same cut): with
// exactly-once delivery the output holds every input line exactly once.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { ConnectorContext } from '../../src/connectors/connector.js';
import { seededRandom } from '../../../scripts/checkpoint-workload.js';
import { recordsOf } from '../../src/records/batch.js';

describe('file source to file sink across crashes', () => {
  it('exactly-once: the output is the input, each line once, after several crashes', async () => {
    const random = seededRandom(3);
    const dir = await mkdtemp(join(tmpdir(), 'weir-f2f-'));
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'ü€😀'.repeat(Math.floor(random() * 20))}`);
    await writeFile(join(dir, 'in.txt'), lines.map((l, i) => l + (i % 4 === 0 ? '\r\n' : '\n')).join(''));
    const ctx = (resumeFrom?: Uint8Array): ConnectorContext => ({
      baseDir: dir, node: 'n', logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: process.stdout, resumeFrom, delivery: 'exactly-once',
    });
    const connectors = builtinConnectors();
    let checkpoint: { position: Uint8Array; token: Uint8Array } | undefined;
    let crashes = 0;
    for (let finished = false; !finished; ) {
      const source = connectors.source('file')!.create({ path: 'in.txt', format: 'lines' }, ctx(checkpoint?.position));
      const sink = connectors.sink('file')!.create({ path: 'out.txt', format: 'lines' }, ctx(checkpoint?.token));
      // Run a while: batches, a checkpoint now and then, then a crash (nothing closed) unless the input ends first.
      const polls = crashes < 4 ? 5 + Math.floor(random() * 60) : Number.POSITIVE_INFINITY;
      for (let i = 0; i < polls; i++) {
        const { records, done } = await source.poll(1 + Math.floor(random() * 40));
        await sink.write(recordsOf(records));
        if (random() < 0.2) checkpoint = { position: source.position!()!, token: await sink.preCommit!() };
        if (done) {
          finished = true;
          break;
        }
      }
      if (finished) {
        await source.close();
        await sink.close();
      } else {
        crashes++;
        await source.close(); // the source's descriptor; the sink's is left open, its bytes after the checkpoint stay in the file
      }
    }
    expect(crashes).toBe(4);
    expect((await readFile(join(dir, 'out.txt'), 'utf8')).split('\n')).toEqual([...lines, '']);
  });
});
