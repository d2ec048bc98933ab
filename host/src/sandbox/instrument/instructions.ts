/**
 * Walks the instructions of a function body, telling each opcode and where
 * it starts and ends. Only immediates are decoded (to find the next
 * instruction); nothing is validated, V8 does that when it compiles.
 *
 * Covers the MVP plus the proposals our toolchains emit: sign extension,
 * saturating conversions, bulk memory, reference types, multi-value,
 * multi-memory, SIMD (with relaxed SIMD), threads/atomics, tail calls and
 * exception handling. GC instructions are refused with a clear message.
 */
import { ByteReader, MalformedModuleError } from './wasm-bytes.js';

/** Opcodes the instrumenter acts on. */
export const OP = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  call: 0x10,
  drop: 0x1a,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  memoryGrow: 0x40,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i64LtS: 0x53,
  i32Add: 0x6a,
  i64Add: 0x7c,
  i64Sub: 0x7d,
  i64Mul: 0x7e,
  i64ShrU: 0x88,
  i64ExtendI32U: 0xad,
} as const;

/** One decoded instruction. */
export interface Instruction {
  /** First opcode byte. */
  op: number;
  /** Sub-opcode of a prefixed instruction (0xFC, 0xFD, 0xFE), else -1. */
  sub: number;
  start: number;
  end: number;
}

/** Calls `visit` for every instruction of the expression in `reader` up to its end position. */
export function forEachInstruction(reader: ByteReader, visit: (instruction: Instruction) => void): void {
  while (!reader.done) visit(readInstruction(reader));
}

/** Reads the one instruction at the reader's position, leaving the reader after it. */
export function readInstruction(reader: ByteReader): Instruction {
  const start = reader.pos;
  const op = reader.byte();
  const sub = skipImmediates(reader, op);
  return { op, sub, start, end: reader.pos };
}

function memarg(r: ByteReader): void {
  const align = r.u32();
  if (align & 0x40) r.u32();
  r.skipLeb();
}

/** Skips the immediates of `op`; returns the sub-opcode for prefixed instructions, else -1. */
function skipImmediates(r: ByteReader, op: number): number {
  if (op >= 0x45 && op <= 0xc4) return -1; // numeric, including sign extension
  if (op >= 0x28 && op <= 0x3e) {
    memarg(r);
    return -1;
  }
  switch (op) {
    case 0x00: case 0x01: case 0x05: case 0x0a: case 0x0b: case 0x0f: case 0x19: case 0x1a: case 0x1b:
    case 0xd1: case 0xd3: case 0xd4:
      return -1;
    case 0x02: case 0x03: case 0x04: case 0x06:
      r.s33();
      return -1;
    case 0x07: case 0x08: case 0x09: case 0x0c: case 0x0d: case 0x10: case 0x12: case 0x14: case 0x15: case 0x18:
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
    case 0x3f: case 0x40: case 0xd2: case 0xd5: case 0xd6:
      r.u32();
      return -1;
    case 0x11: case 0x13:
      r.u32();
      r.u32();
      return -1;
    case 0x0e: {
      const count = r.u32();
      for (let i = 0; i <= count; i++) r.u32();
      return -1;
    }
    case 0x1c: {
      const count = r.u32();
      for (let i = 0; i < count; i++) r.s33();
      return -1;
    }
    case 0x1f: {
      r.s33();
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const kind = r.byte();
        if (kind === 0 || kind === 1) r.u32();
        r.u32();
      }
      return -1;
    }
    case 0x41: case 0x42:
      r.skipLeb();
      return -1;
    case 0x43:
      r.skip(4);
      return -1;
    case 0x44:
      r.skip(8);
      return -1;
    case 0xd0:
      r.s33();
      return -1;
    case 0xfc:
      return skipMiscImmediates(r);
    case 0xfd:
      return skipSimdImmediates(r);
    case 0xfe: {
      const sub = r.u32();
      if (sub === 0x03) r.byte();
      else memarg(r);
      return sub;
    }
    case 0xfb:
      throw new MalformedModuleError('uses GC instructions (0xFB prefix), which the instrumenter does not support');
    default:
      throw new MalformedModuleError(`unknown opcode 0x${op.toString(16)} at byte ${r.pos - 1}`);
  }
}

function skipMiscImmediates(r: ByteReader): number {
  const sub = r.u32();
  if (sub <= 7) return sub;
  switch (sub) {
    case 8: case 12: case 10: case 14:
      r.u32();
      r.u32();
      return sub;
    case 9: case 11: case 13: case 15: case 16: case 17:
      r.u32();
      return sub;
    default:
      throw new MalformedModuleError(`unknown opcode 0xfc ${sub} at byte ${r.pos}`);
  }
}

function skipSimdImmediates(r: ByteReader): number {
  const sub = r.u32();
  if (sub <= 11 || sub === 92 || sub === 93) memarg(r);
  else if (sub === 12 || sub === 13) r.skip(16);
  else if (sub >= 21 && sub <= 34) r.byte();
  else if (sub >= 84 && sub <= 91) {
    memarg(r);
    r.byte();
  }
  return sub;
}
