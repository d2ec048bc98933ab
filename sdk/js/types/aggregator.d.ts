/// <reference path="./interfaces/weir-plugin-clock.d.ts" />
/// <reference path="./interfaces/weir-plugin-config.d.ts" />
/// <reference path="./interfaces/weir-plugin-log.d.ts" />
/// <reference path="./interfaces/weir-plugin-metrics.d.ts" />
/// <reference path="./interfaces/weir-plugin-services.d.ts" />
/// <reference path="./interfaces/weir-plugin-state.d.ts" />
/// <reference path="./interfaces/weir-plugin-types.d.ts" />
declare module 'weir:plugin/aggregator@0.1.0' {
  export type Record = import('weir:plugin/types@0.1.0').Record;
  export type Error = import('weir:plugin/types@0.1.0').Error;
  export type Window = import('weir:plugin/types@0.1.0').Window;
  export type * as WeirPluginClock010 from 'weir:plugin/clock@0.1.0'; // import weir:plugin/clock@0.1.0
  export type * as WeirPluginConfig010 from 'weir:plugin/config@0.1.0'; // import weir:plugin/config@0.1.0
  export type * as WeirPluginLog010 from 'weir:plugin/log@0.1.0'; // import weir:plugin/log@0.1.0
  export type * as WeirPluginMetrics010 from 'weir:plugin/metrics@0.1.0'; // import weir:plugin/metrics@0.1.0
  export type * as WeirPluginServices010 from 'weir:plugin/services@0.1.0'; // import weir:plugin/services@0.1.0
  export type * as WeirPluginState010 from 'weir:plugin/state@0.1.0'; // import weir:plugin/state@0.1.0
  export type * as WeirPluginTypes010 from 'weir:plugin/types@0.1.0'; // import weir:plugin/types@0.1.0
  /**
  * Called once with the node's config (JSON text) before any record.
  */
  export function configure(config: string): void;
  /**
  * Folds one record into the accumulator of its key and window (none for the window's first record).
  */
  export function accumulate(accumulator: Uint8Array | undefined, record: Record): Uint8Array;
  /**
  * Combines two accumulators of one key (session windows that grew into each other).
  */
  export function merge(a: Uint8Array, b: Uint8Array): Uint8Array;
  /**
  * The records a closed window emits (often one).
  */
  export function emit(key: Uint8Array | undefined, window: Window, accumulator: Uint8Array): Array<Record>;
  export type Option<T> = { tag: 'none' } | { tag: 'some', val: T };
  export type Result<T, E> = { tag: 'ok', val: T } | { tag: 'err', val: E };
}
