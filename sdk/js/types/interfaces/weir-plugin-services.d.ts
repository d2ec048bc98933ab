/// <reference path="./weir-plugin-types.d.ts" />
declare module 'weir:plugin/services@0.1.0' {
  /**
   * Calls `method` on the service node with id `service`.
   */
  export function callService(service: string, method: string, payload: Uint8Array): Uint8Array;
  export type Error = import('weir:plugin/types@0.1.0').Error;
}
