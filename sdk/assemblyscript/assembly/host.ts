// Host imports of the core-module ABI (module "weir"); see ../ABI.md.
// Functions that return variable-size data return its length (or -1 for none)
// and keep the bytes pending until the guest copies them with `take`.

@external("weir", "log")
declare function hostLog(level: i32, ptr: usize, len: i32): void;
@external("weir", "now")
declare function hostNow(): i64;
@external("weir", "config_get")
declare function hostConfigGet(keyPtr: usize, keyLen: i32): i32;
@external("weir", "state_get")
declare function hostStateGet(keyPtr: usize, keyLen: i32): i32;
@external("weir", "state_set")
declare function hostStateSet(keyPtr: usize, keyLen: i32, valuePtr: usize, valueLen: i32): void;
@external("weir", "state_delete")
declare function hostStateDelete(keyPtr: usize, keyLen: i32): void;
@external("weir", "counter_add")
declare function hostCounterAdd(namePtr: usize, nameLen: i32, delta: i64): void;
@external("weir", "gauge_set")
declare function hostGaugeSet(namePtr: usize, nameLen: i32, value: f64): void;
@external("weir", "call_service")
declare function hostCallService(servicePtr: usize, serviceLen: i32, methodPtr: usize, methodLen: i32, payloadPtr: usize, payloadLen: i32): i32;
@external("weir", "service_error_kind")
declare function hostServiceErrorKind(): i32;
@external("weir", "take")
declare function hostTake(ptr: usize): void;

/** Log levels, as in the WIT `log.level` enum. */
export enum LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4 }

/** Writes a log line through the host, tagged with this node and plugin. */
export function log(level: LogLevel, message: string): void {
  const bytes = String.UTF8.encode(message);
  hostLog(level, changetype<usize>(bytes), bytes.byteLength);
}

/** Wall-clock milliseconds since the Unix epoch. */
export function now(): i64 {
  return hostNow();
}

function takePending(len: i32): Uint8Array | null {
  if (len < 0) return null;
  const out = new Uint8Array(len);
  if (len > 0) hostTake(out.dataStart);
  return out;
}

/** The JSON text of the top-level config field `key`, or null when absent. */
export function configGet(key: string): string | null {
  const k = String.UTF8.encode(key);
  const bytes = takePending(hostConfigGet(changetype<usize>(k), k.byteLength));
  return bytes === null ? null : String.UTF8.decodeUnsafe(bytes.dataStart, bytes.length);
}

/** Keyed state of this node. */
export namespace state {
  export function get(key: Uint8Array): Uint8Array | null {
    return takePending(hostStateGet(key.dataStart, key.length));
  }
  export function set(key: Uint8Array, value: Uint8Array): void {
    hostStateSet(key.dataStart, key.length, value.dataStart, value.length);
  }
  export function remove(key: Uint8Array): void {
    hostStateDelete(key.dataStart, key.length);
  }
}

/** Adds `delta` to the counter `name`. */
export function counterAdd(name: string, delta: i64): void {
  const n = String.UTF8.encode(name);
  hostCounterAdd(changetype<usize>(n), n.byteLength, delta);
}

/** Sets the gauge `name`. */
export function gaugeSet(name: string, value: f64): void {
  const n = String.UTF8.encode(name);
  hostGaugeSet(changetype<usize>(n), n.byteLength, value);
}

/**
 * Calls `method` on the service node `service`. Returns the reply, or null when
 * the call failed; the failure is then described by `lastServiceError()`.
 */
export function callService(service: string, method: string, payload: Uint8Array): Uint8Array | null {
  const s = String.UTF8.encode(service);
  const m = String.UTF8.encode(method);
  const len = hostCallService(changetype<usize>(s), s.byteLength, changetype<usize>(m), m.byteLength, payload.dataStart, payload.length);
  if (len >= 0) {
    serviceError = null;
    return takePending(len);
  }
  // -1 - len is the length of the pending UTF-8 error message.
  const message = takePending(-1 - len)!;
  serviceError = String.UTF8.decodeUnsafe(message.dataStart, message.length);
  return null;
}

let serviceError: string | null = null;

/**
 * The kind of the last failed `callService`, as the service (or the host)
 * reported it: `ErrorKind.Transient`, `InvalidInput` or `Fatal` (1-3); 0 after
 * a success. Pass it on with `fail(lastServiceErrorKind(), lastServiceError()!)`
 * so that the node's `onError` policy sees whether retrying can help.
 */
export function lastServiceErrorKind(): i32 {
  return hostServiceErrorKind();
}

/** The error message of the last failed `callService`, or null. */
export function lastServiceError(): string | null {
  return serviceError;
}
