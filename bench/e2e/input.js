// The end-to-end benchmarks' input: JSONL records of about 150 bytes, the same for every run.
//   node bench/e2e/input.js N   writes N records to standard output (the generator process a pipe reads)
import { createWriteStream, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima', 'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango', 'uniform', 'victor', 'whiskey', 'xray', 'yankee', 'zulu', '42', '7', '2024'];

/**
 * Line `i` (with its newline): a key of 1,000 users, a value of about 100 ASCII
 * characters (lower-case words and digits: upper-casing them is the same in every
 * implementation, and JSON needs no escapes), an event time. The fields are in the
 * order Weir's `jsonl` writer uses, so a transform that only upper-cases the value
 * writes back the same bytes JSON.stringify does.
 */
export function recordLine(i) {
  let x = (Math.imul(i + 1, 2654435761) ^ 0x9e3779b9) >>> 0 || 1;
  let value = '';
  while (value.length < 95) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    value += (value ? ' ' : '') + WORDS[x % WORDS.length];
  }
  return `{"key":"user-${String(i % 1000).padStart(4, '0')}","value":"${value}","eventTime":${1700000000000 + i}}\n`;
}

/** Writes records `0..count-1` to `out` with backpressure. */
export async function writeRecords(out, count) {
  const chunk = 1024;
  for (let i = 0; i < count; i += chunk) {
    let text = '';
    for (let j = i; j < Math.min(count, i + chunk); j++) text += recordLine(j);
    if (!out.write(text)) await once(out, 'drain');
  }
}

/**
 * The input file of `count` records in `dir`, written once: its name carries the count and
 * this format's version, and it appears by a rename only when complete, so a file that is
 * there is whole and right.
 */
export async function ensureInput(dir, count) {
  const file = join(dir, `e2e-input-v1-${count}.jsonl`);
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  await writeRecords(out, count);
  out.end();
  await once(out, 'close');
  renameSync(tmp, file);
  return file;
}

if (import.meta.filename === process.argv[1]) {
  const count = Number(process.argv[2]);
  if (!Number.isInteger(count) || count < 0) {
    process.stderr.write('usage: node bench/e2e/input.js COUNT\n');
    process.exit(2);
  }
  process.stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  await writeRecords(process.stdout, count);
}
