//! Benchmark transform as a Rust component, with the canonical ABI written by
//! hand (no crates are available to these builds, so no wit-bindgen).
//!
//! World `weir:plugin/packed-processor` (wit/plugin.wit): `configure`, `process`
//! (`list<record>`) and `process-packed` (`list<u8>` holding a packed batch).
//! Both transforms upper-case the ASCII letters of every value **in place** in
//! the memory the host lowered the arguments into, and return that same memory
//! as the result; `cabi_post_*` frees it after the host has lifted the result.
//!
//! Canonical ABI layouts used (wasm32, little-endian):
//! - `list<T>`, `string`: (ptr: u32, len: u32), 8 bytes, align 4.
//! - `header { name: string, value: list<u8> }`: 16 bytes, align 4.
//! - `record { key: option<list<u8>>, value: list<u8>, headers: list<header>, event-time: option<s64> }`:
//!   key at 0 (discriminant u8 at 0, list at 4: 12 bytes), value at 12, headers at 20,
//!   event-time at 32 (discriminant u8 at 32, i64 at 40): 48 bytes, align 8.
//! - `result<list<T>, error>` (returned through a pointer: its flat form has 4 values):
//!   discriminant u8 at 0; ok: list at 4; err: error discriminant u8 at 4, string at 8.
//!   16 bytes, align 4. `result<_, error>` has the same layout.

use std::alloc::{alloc, dealloc, realloc, Layout};

const RECORD_SIZE: usize = 48;
const HEADER_SIZE: usize = 16;

#[repr(C, align(8))]
struct ReturnArea([u8; 16]);
static mut RETURN_AREA: ReturnArea = ReturnArea([0; 16]);

unsafe fn read_u32(p: *const u8) -> usize {
    u32::from_le_bytes([*p, *p.add(1), *p.add(2), *p.add(3)]) as usize
}

unsafe fn write_u32(p: *mut u8, v: usize) {
    let b = (v as u32).to_le_bytes();
    for (i, x) in b.iter().enumerate() {
        *p.add(i) = *x;
    }
}

unsafe fn free(ptr: usize, size: usize, align: usize) {
    if size != 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(size, align));
    }
}

unsafe fn upper_in_place(ptr: *mut u8, len: usize) {
    let bytes = std::slice::from_raw_parts_mut(ptr, len);
    for b in bytes.iter_mut() {
        if b.is_ascii_lowercase() {
            *b -= 32;
        }
    }
}

unsafe fn return_ok_list(ptr: usize, len: usize) -> *mut u8 {
    let area = RETURN_AREA.0.as_mut_ptr();
    *area = 0;
    write_u32(area.add(4), ptr);
    write_u32(area.add(8), len);
    area
}

/// Allocation entry point the host uses to lower arguments into this module.
#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old_ptr: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    if new_size == 0 {
        if old_size != 0 {
            dealloc(old_ptr, Layout::from_size_align_unchecked(old_size, align));
        }
        return align as *mut u8;
    }
    if old_size == 0 {
        return alloc(Layout::from_size_align_unchecked(new_size, align));
    }
    realloc(old_ptr, Layout::from_size_align_unchecked(old_size, align), new_size)
}

/// `configure: func(config: string) -> result<_, error>`: accepts any config.
#[export_name = "configure"]
pub unsafe extern "C" fn configure(ptr: usize, len: usize) -> *mut u8 {
    free(ptr, len, 1);
    let area = RETURN_AREA.0.as_mut_ptr();
    *area = 0;
    area
}

/// `process: func(batch: list<record>) -> result<list<record>, error>`.
#[export_name = "process"]
pub unsafe extern "C" fn process(ptr: usize, len: usize) -> *mut u8 {
    for i in 0..len {
        let record = (ptr + i * RECORD_SIZE) as *mut u8;
        upper_in_place(read_u32(record.add(12)) as *mut u8, read_u32(record.add(16)));
    }
    return_ok_list(ptr, len)
}

/// Frees everything `process` returned: every nested list, then the records.
#[export_name = "cabi_post_process"]
pub unsafe extern "C" fn post_process(area: *mut u8) {
    let ptr = read_u32(area.add(4));
    let len = read_u32(area.add(8));
    for i in 0..len {
        let record = (ptr + i * RECORD_SIZE) as *const u8;
        if *record != 0 {
            free(read_u32(record.add(4)), read_u32(record.add(8)), 1);
        }
        free(read_u32(record.add(12)), read_u32(record.add(16)), 1);
        let headers = read_u32(record.add(20));
        let header_count = read_u32(record.add(24));
        for h in 0..header_count {
            let header = (headers + h * HEADER_SIZE) as *const u8;
            free(read_u32(header), read_u32(header.add(4)), 1);
            free(read_u32(header.add(8)), read_u32(header.add(12)), 1);
        }
        free(headers, header_count * HEADER_SIZE, 4);
    }
    free(ptr, len * RECORD_SIZE, 8);
}

/// `process-packed: func(batch: list<u8>) -> result<list<u8>, error>`: walks the
/// packed batch (host/src/records/batch-codec.ts) and upper-cases each value.
#[export_name = "process-packed"]
pub unsafe extern "C" fn process_packed(ptr: usize, len: usize) -> *mut u8 {
    let base = ptr as *mut u8;
    if len >= 4 {
        let count = read_u32(base);
        let mut at = 4;
        for _ in 0..count {
            at += 12; // flags, event time
            at += 4 + read_u32(base.add(at)); // key
            let value_len = read_u32(base.add(at));
            upper_in_place(base.add(at + 4), value_len);
            at += 4 + value_len;
            let headers = read_u32(base.add(at));
            at += 4;
            for _ in 0..headers {
                at += 4 + read_u32(base.add(at));
                at += 4 + read_u32(base.add(at));
            }
        }
    }
    return_ok_list(ptr, len)
}

/// Frees the buffer `process-packed` returned.
#[export_name = "cabi_post_process-packed"]
pub unsafe extern "C" fn post_process_packed(area: *mut u8) {
    free(read_u32(area.add(4)), read_u32(area.add(8)), 1);
}
