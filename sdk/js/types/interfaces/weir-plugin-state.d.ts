declare module 'weir:plugin/state@0.1.0' {
  export function get(key: Uint8Array): Uint8Array | undefined;
  export function set(key: Uint8Array, value: Uint8Array): void;
  export { _delete as delete };
  function _delete(key: Uint8Array): void;
}
