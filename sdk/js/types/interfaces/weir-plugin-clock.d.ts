declare module 'weir:plugin/clock@0.1.0' {
  /**
   * Wall-clock time in milliseconds since the Unix epoch.
   */
  export function now(): bigint;
}
