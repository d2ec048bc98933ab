import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, WeirError, hasCode } from '../../src/errors/errors.js';
import { GUEST_FAULT_MARKER, guestFaultOf } from '../../src/errors/guest-fault.js';

describe('error codes', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../../docs/errors.md'), 'utf8');
  const documented = [...doc.matchAll(/^\| `(WEIR_[A-Z_]+)` \|/gm)].map((m) => m[1]);

  it('documents every code in docs/errors.md, and nothing else', () => {
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('keeps code and details through JSON, so codes survive serialization', () => {
    const error = new WeirError('WEIR_PLUGIN_TRAP', 'boom', { node: 'n' });
    const copy = JSON.parse(JSON.stringify(error)) as unknown;
    expect(hasCode(copy, 'WEIR_PLUGIN_TRAP')).toBe(true);
    expect(copy).toEqual({ code: 'WEIR_PLUGIN_TRAP', message: 'boom', details: { node: 'n' } });
  });
});

describe('guest fault reports', () => {
  it('take only lines that start with the marker, and carry no control characters but tab and newline', () => {
    expect(guestFaultOf('panicked at src/lib.rs:1:1: boom')).toBeUndefined();
    expect(guestFaultOf(`${GUEST_FAULT_MARKER}panicked: boom`)).toBe('panicked: boom');
    expect(guestFaultOf(`${GUEST_FAULT_MARKER}a\u001b[2Jb\u0000c\td\ne\u009bf`)).toBe('a\uFFFD[2Jb\uFFFDc\td\ne\uFFFDf');
  });
});
