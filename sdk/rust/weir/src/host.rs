//! The host functions every Weir plugin may call (wit/plugin.wit, interfaces
//! log, config, state, metrics, services, clock).
use crate::abi::{read_u32, take_bytes, take_string};
use crate::Error;

/// Log levels, as in the WIT `log.level` enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Trace = 0,
    Debug = 1,
    Info = 2,
    Warn = 3,
    Error = 4,
}

mod raw {
    #[link(wasm_import_module = "weir:plugin/log@0.1.0")]
    extern "C" {
        pub fn log(level: i32, ptr: *const u8, len: usize);
    }
    #[link(wasm_import_module = "weir:plugin/config@0.1.0")]
    extern "C" {
        pub fn get(ptr: *const u8, len: usize, ret: *mut u8);
    }
    #[link(wasm_import_module = "weir:plugin/state@0.1.0")]
    extern "C" {
        #[link_name = "get"]
        pub fn state_get(ptr: *const u8, len: usize, ret: *mut u8);
        #[link_name = "set"]
        pub fn state_set(kp: *const u8, kl: usize, vp: *const u8, vl: usize);
        #[link_name = "delete"]
        pub fn state_delete(ptr: *const u8, len: usize);
    }
    #[link(wasm_import_module = "weir:plugin/metrics@0.1.0")]
    extern "C" {
        #[link_name = "counter-add"]
        pub fn counter_add(ptr: *const u8, len: usize, delta: i64);
        #[link_name = "gauge-set"]
        pub fn gauge_set(ptr: *const u8, len: usize, value: f64);
    }
    #[link(wasm_import_module = "weir:plugin/services@0.1.0")]
    extern "C" {
        #[link_name = "call-service"]
        pub fn call_service(sp: *const u8, sl: usize, mp: *const u8, ml: usize, pp: *const u8, pl: usize, ret: *mut u8);
    }
    #[link(wasm_import_module = "weir:plugin/clock@0.1.0")]
    extern "C" {
        pub fn now() -> i64;
    }
}

#[repr(C, align(4))]
struct Ret([u8; 16]);

/// Writes a line to the host's log, tagged with the node and plugin.
pub fn log(level: Level, message: &str) {
    unsafe { raw::log(level as i32, message.as_ptr(), message.len()) }
}

/// The JSON text of the top-level field `key` of the node's config.
pub fn config_get(key: &str) -> Option<String> {
    let mut ret = Ret([0; 16]);
    unsafe {
        raw::get(key.as_ptr(), key.len(), ret.0.as_mut_ptr());
        if ret.0[0] == 0 {
            return None;
        }
        Some(take_string(read_u32(ret.0.as_ptr().add(4)) as *mut u8, read_u32(ret.0.as_ptr().add(8))))
    }
}

/// This node's keyed state.
pub mod state {
    use super::*;

    /// The value stored under `key`.
    pub fn get(key: &[u8]) -> Option<Vec<u8>> {
        let mut ret = Ret([0; 16]);
        unsafe {
            raw::state_get(key.as_ptr(), key.len(), ret.0.as_mut_ptr());
            if ret.0[0] == 0 {
                return None;
            }
            Some(take_bytes(read_u32(ret.0.as_ptr().add(4)) as *mut u8, read_u32(ret.0.as_ptr().add(8))))
        }
    }

    /// Stores `value` under `key`.
    pub fn set(key: &[u8], value: &[u8]) {
        unsafe { raw::state_set(key.as_ptr(), key.len(), value.as_ptr(), value.len()) }
    }

    /// Removes `key`.
    pub fn delete(key: &[u8]) {
        unsafe { raw::state_delete(key.as_ptr(), key.len()) }
    }
}

/// Adds to a plugin-defined counter of the node.
pub fn counter_add(name: &str, delta: u64) {
    unsafe { raw::counter_add(name.as_ptr(), name.len(), delta as i64) }
}

/// Sets a plugin-defined gauge of the node.
pub fn gauge_set(name: &str, value: f64) {
    unsafe { raw::gauge_set(name.as_ptr(), name.len(), value) }
}

/// Calls `method` on the service node `service`, synchronously.
pub fn call_service(service: &str, method: &str, payload: &[u8]) -> Result<Vec<u8>, Error> {
    let mut ret = Ret([0; 16]);
    unsafe {
        raw::call_service(service.as_ptr(), service.len(), method.as_ptr(), method.len(), payload.as_ptr(), payload.len(), ret.0.as_mut_ptr());
        let at = ret.0.as_ptr();
        if *at == 0 {
            return Ok(take_bytes(read_u32(at.add(4)) as *mut u8, read_u32(at.add(8))));
        }
        let message = take_string(read_u32(at.add(8)) as *mut u8, read_u32(at.add(12)));
        Err(match *at.add(4) {
            0 => Error::Transient(message),
            1 => Error::InvalidInput(message),
            _ => Error::Fatal(message),
        })
    }
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now() -> i64 {
    unsafe { raw::now() }
}
