declare module 'weir:plugin/metrics@0.1.0' {
  /**
   * Adds `delta` to the counter `name`.
   */
  export function counterAdd(name: string, delta: bigint): void;
  /**
   * Sets the gauge `name`.
   */
  export function gaugeSet(name: string, value: number): void;
}
