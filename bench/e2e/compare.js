// Output checks of the end-to-end benchmark: a path whose output is not the plain script's is refused.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

/** Byte offset of the first difference between two files, or -1 when they are the same bytes. */
export function firstDifference(a, b) {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const size = 1 << 20;
    const ba = Buffer.alloc(size);
    const bb = Buffer.alloc(size);
    for (let offset = 0; ; offset += size) {
      const na = readSync(fa, ba, 0, size, offset);
      const nb = readSync(fb, bb, 0, size, offset);
      const n = Math.min(na, nb);
      if (ba.subarray(0, n).compare(bb.subarray(0, n)) !== 0) {
        for (let i = 0; i < n; i++) if (ba[i] !== bb[i]) return offset + i;
      }
      if (na !== nb) return offset + n;
      if (na === 0) return -1;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/** Whether two files hold the same lines, in any order (the output of a parallel node keeps no order across instances). */
export function sameLines(a, b) {
  const sorted = (file) => readFileSync(file, 'latin1').split('\n').sort();
  const la = sorted(a);
  const lb = sorted(b);
  return la.length === lb.length && la.every((line, i) => line === lb[i]);
}

/**
 * Undefined when `actual` has the bytes of `expected` (or, with `anyOrder`, its lines in
 * another order); else why not, with the line where they part.
 */
export function outputProblem(expected, actual, { anyOrder = false } = {}) {
  const at = firstDifference(expected, actual);
  if (at < 0) return undefined;
  if (anyOrder && sameLines(expected, actual)) return undefined;
  const line = readFileSync(actual, 'latin1').slice(0, at).split('\n').length;
  return `output differs from the plain script's at byte ${at} (line ${line})${anyOrder ? ', and not only in order' : ''}`;
}
