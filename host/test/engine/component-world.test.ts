/**
 * The world check of components: a processor fits with or without
 * `process-packed` (worlds `processor` and `packed-processor`), but an export
 * of that name with another type is refused, since the host would call it.
 */
import { describe, expect, it } from 'vitest';
import { checkComponentWorld } from '../../src/engine/component-world.js';
import { PACKED_EXPORT_TYPE } from '../../src/engine/export-types.js';

const processor = { imports: ['weir:plugin/log'], exports: ['configure', 'process'], exportTypes: {} };

describe('checkComponentWorld, processor', () => {
  it('accepts a processor without process-packed', () => {
    expect(checkComponentWorld(processor, 'processor')).toEqual([]);
  });

  it('accepts a packed-processor, whatever its parameter is called', () => {
    const packed = { ...processor, exports: [...processor.exports, 'processPacked'] };
    expect(checkComponentWorld({ ...packed, exportTypes: { 'process-packed': PACKED_EXPORT_TYPE } }, 'processor')).toEqual([]);
    expect(checkComponentWorld({ ...packed, exportTypes: { 'process-packed': 'func(packed: list<u8>) -> result<list<u8>, error>' } }, 'processor')).toEqual([]);
  });

  it('refuses a process-packed of another type, saying which', () => {
    const packed = { ...processor, exports: [...processor.exports, 'processPacked'], exportTypes: { 'process-packed': 'func(text: string) -> string' } };
    const problems = checkComponentWorld(packed, 'processor');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('"process-packed" as func(text: string) -> string');
    expect(problems[0]).toContain(PACKED_EXPORT_TYPE);
  });
});
