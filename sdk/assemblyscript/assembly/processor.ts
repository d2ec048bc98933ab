// The processor a plugin registers, and how it reports errors.
import { Record } from "./record";
import { Batch, Output } from "./batch";
import { setOutputText } from "./buffers";

/** Why a call failed, as in the WIT `error` variant. */
export enum ErrorKind { Transient = 1, InvalidInput = 2, Fatal = 3 }

/**
 * A processor plugin: override `configure` (optional) and one of
 * `processBatch` (records read in place and written straight to the output:
 * no object per record) or `process` (records as `Record` objects).
 */
export abstract class Processor {
  /** Called once with the node's config as JSON text. */
  configure(config: string): void {}

  /**
   * Reads the call's records with `batch.next()` and passes on or writes the
   * records to send downstream to `out`. The default hands `process` the
   * records as objects.
   */
  processBatch(batch: Batch, out: Output): void {
    const records = new Array<Record>(batch.length);
    for (let i = 0; batch.next(); i++) records[i] = batch.record();
    const kept = new Array<Record>(0);
    this.process(records, kept);
    for (let i = 0; i < kept.length; i++) out.writeRecord(kept[i]);
  }

  /** Appends the records to pass downstream to `out` (used when `processBatch` is not overridden). */
  process(batch: Record[], out: Record[]): void {
    abort("the processor overrides neither processBatch nor process");
  }
}

let registered: Processor | null = null;
let registeredAggregator: Aggregator | null = null;
let failureKind: i32 = 0;
let failureMessage: string = "";

/** Makes `processor` the plugin's processor; call it once at the top level of the plugin. */
export function register(processor: Processor): void {
  registered = processor;
}

/** An event-time window, [start, end) in ms since the epoch. */
export class Window {
  constructor(public start: i64, public end: i64) {}
}

/**
 * A windowed aggregation (world `aggregator`): the host keeps one accumulator
 * (bytes of the plugin's choosing) per key and window.
 */
export abstract class Aggregator {
  /** Called once with the node's config as JSON text. */
  configure(config: string): void {}
  /** Folds `record` into `accumulator` (null for a window's first record); returns the new accumulator. */
  abstract accumulate(accumulator: Uint8Array | null, record: Record): Uint8Array;
  /** Combines two accumulators of one key (session windows that grew together). */
  abstract merge(a: Uint8Array, b: Uint8Array): Uint8Array;
  /** Appends the records a closed window emits to `out`. */
  abstract emit(key: Uint8Array | null, window: Window, accumulator: Uint8Array, out: Record[]): void;
}

/** Makes `aggregator` the plugin's aggregator; call it once at the top level of the plugin. */
export function registerAggregator(aggregator: Aggregator): void {
  registeredAggregator = aggregator;
}

/** The registered aggregator (aborts when the plugin registered none). */
export function registeredAggregatorInstance(): Aggregator {
  const a = registeredAggregator;
  if (a === null) abort("no aggregator registered: call registerAggregator(new MyAggregator()) at the top level");
  return changetype<Aggregator>(a);
}

/** Configures whichever the plugin registered. */
export function registeredConfigure(config: string): void {
  if (registeredAggregator !== null) registeredAggregator!.configure(config);
  else registeredProcessor().configure(config);
}

/** The status of the call: 0, or the failure kind with its message as the call's output. */
export function callStatus(): i32 {
  const kind = takeFailure();
  if (kind != 0) setOutputText(failureText());
  return kind;
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
