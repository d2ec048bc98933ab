declare module 'weir:plugin/config@0.1.0' {
  /**
   * The JSON text of the top-level config field `key`, or none if absent.
   */
  export function get(key: string): string | undefined;
}
