// The processor a plugin registers, and how it reports errors.
import { Record } from "./record";

/** Why a call failed, as in the WIT `error` variant. */
export enum ErrorKind { Transient = 1, InvalidInput = 2, Fatal = 3 }

/** A processor plugin: override `configure` (optional) and `process`. */
export abstract class Processor {
  /** Called once with the node's config as JSON text. */
  configure(config: string): void {}
  /** Appends the records to pass downstream to `out`. */
  abstract process(batch: Record[], out: Record[]): void;
}

let registered: Processor | null = null;
let failureKind: i32 = 0;
let failureMessage: string = "";

/** Makes `processor` the plugin's processor; call it once at the top level of the plugin. */
export function register(processor: Processor): void {
  registered = processor;
}

/** The registered processor (aborts when the plugin registered none). */
export function registeredProcessor(): Processor {
  const p = registered;
  if (p === null) abort("no processor registered: call register(new MyProcessor()) at the top level");
  return changetype<Processor>(p);
}

/** Fails the current call with an error result; return from `configure`/`process` after calling it. */
export function fail(kind: ErrorKind, message: string): void {
  failureKind = kind;
  failureMessage = message;
}

/** The status and message set by `fail` during the current call, then clears them. */
export function takeFailure(): i32 {
  const kind = failureKind;
  failureKind = 0;
  return kind;
}

/** The message of the failure last taken. */
export function failureText(): string {
  return failureMessage;
}
