//! The canonical ABI for the types of `weir:plugin@0.1.0`, by hand (wasm32,
//! little-endian). Used by the export macros; plugins do not call it.
//!
//! Layouts:
//! - `string`, `list<T>`: (ptr: u32, len: u32), 8 bytes, align 4.
//! - `header { name: string, value: list<u8> }`: 16 bytes, align 4.
//! - `record { key: option<list<u8>>, value, headers, event-time: option<s64> }`:
//!   key at 0 (discriminant u8, list at 4), value at 12, headers at 20,
//!   event-time at 32 (discriminant u8, i64 at 40); 48 bytes, align 8.
//! - `result<T, error>` returned through a pointer: discriminant u8 at 0; the
//!   ok payload at 4; the error's case u8 at 4 and its string at 8. 16 bytes.
//!
//! Ownership: arguments the host lowers into guest memory belong to the guest
//! (taken with `take_*`); results stay allocated until the host has lifted
//! them and calls the export's `cabi_post_*`, which frees them (`free_*`).
use crate::{Error, Header, Record};
use std::alloc::{alloc, dealloc, realloc as grow, Layout};

const RECORD_SIZE: usize = 48;
const HEADER_SIZE: usize = 16;

#[repr(C, align(8))]
struct ReturnArea([u8; 16]);
static mut RETURN_AREA: ReturnArea = ReturnArea([0; 16]);

fn return_area() -> *mut u8 {
    unsafe { (*std::ptr::addr_of_mut!(RETURN_AREA)).0.as_mut_ptr() }
}

/// `cabi_realloc`: the allocator of the canonical ABI.
pub unsafe fn realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    if new_size == 0 {
        if old_size != 0 {
            dealloc(old, Layout::from_size_align_unchecked(old_size, align));
        }
        return align as *mut u8;
    }
    if old_size == 0 {
        return alloc(Layout::from_size_align_unchecked(new_size, align));
    }
    grow(old, Layout::from_size_align_unchecked(old_size, align), new_size)
}

pub(crate) unsafe fn read_u32(p: *const u8) -> usize {
    u32::from_le_bytes([*p, *p.add(1), *p.add(2), *p.add(3)]) as usize
}

pub(crate) unsafe fn write_u32(p: *mut u8, v: usize) {
    std::ptr::copy_nonoverlapping((v as u32).to_le_bytes().as_ptr(), p, 4);
}

pub(crate) unsafe fn free(ptr: usize, size: usize, align: usize) {
    if size != 0 {
        dealloc(ptr as *mut u8, Layout::from_size_align_unchecked(size, align));
    }
}

/// Takes ownership of bytes the host lowered (allocated by `cabi_realloc` with align 1).
pub unsafe fn take_bytes(ptr: *mut u8, len: usize) -> Vec<u8> {
    if len == 0 {
        return Vec::new();
    }
    Vec::from_raw_parts(ptr, len, len)
}

/// Takes ownership of a string the host lowered.
pub unsafe fn take_string(ptr: *mut u8, len: usize) -> String {
    String::from_utf8_unchecked(take_bytes(ptr, len))
}

/// Hands bytes to the host: (ptr, len), freed later by a `free_*`.
pub(crate) fn give_bytes(bytes: Vec<u8>) -> (usize, usize) {
    let len = bytes.len();
    if len == 0 {
        return (1, 0);
    }
    (Box::into_raw(bytes.into_boxed_slice()) as *mut u8 as usize, len)
}

/// Lifts `list<header>`, taking ownership.
pub unsafe fn take_headers(ptr: *mut u8, count: usize) -> Vec<Header> {
    let mut headers = Vec::with_capacity(count);
    for h in 0..count {
        let p = ptr.add(h * HEADER_SIZE);
        headers.push(Header {
            name: take_string(read_u32(p) as *mut u8, read_u32(p.add(4))),
            value: take_bytes(read_u32(p.add(8)) as *mut u8, read_u32(p.add(12))),
        });
    }
    free(ptr as usize, count * HEADER_SIZE, 4);
    headers
}

/// Lifts `option<list<u8>>` passed as flat values.
pub unsafe fn take_optional_bytes(present: i32, ptr: *mut u8, len: usize) -> Option<Vec<u8>> {
    if present != 0 {
        Some(take_bytes(ptr, len))
    } else {
        None
    }
}

/// Lifts one `record` passed as flat values (an export's parameter).
#[allow(clippy::too_many_arguments)]
pub unsafe fn take_flat_record(
    key_present: i32, key_ptr: *mut u8, key_len: usize,
    value_ptr: *mut u8, value_len: usize,
    headers_ptr: *mut u8, header_count: usize,
    time_present: i32, time: i64,
) -> Record {
    Record {
        key: take_optional_bytes(key_present, key_ptr, key_len),
        value: take_bytes(value_ptr, value_len),
        headers: take_headers(headers_ptr, header_count),
        event_time: if time_present != 0 { Some(time) } else { None },
    }
}

/// Lifts `list<record>` from guest memory, taking ownership of every buffer.
pub unsafe fn take_records(ptr: *mut u8, len: usize) -> Vec<Record> {
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let r = ptr.add(i * RECORD_SIZE);
        let key = if *r != 0 { Some(take_bytes(read_u32(r.add(4)) as *mut u8, read_u32(r.add(8)))) } else { None };
        let value = take_bytes(read_u32(r.add(12)) as *mut u8, read_u32(r.add(16)));
        let headers = take_headers(read_u32(r.add(20)) as *mut u8, read_u32(r.add(24)));
        let event_time = if *r.add(32) != 0 { Some(i64::from_le_bytes(*(r.add(40) as *const [u8; 8]))) } else { None };
        out.push(Record { key, value, headers, event_time });
    }
    free(ptr as usize, len * RECORD_SIZE, 8);
    out
}

/// Lowers `list<record>` into fresh guest memory: (ptr, len).
pub(crate) unsafe fn give_records(records: Vec<Record>) -> (usize, usize) {
    let len = records.len();
    if len == 0 {
        return (8, 0);
    }
    let base = alloc(Layout::from_size_align_unchecked(len * RECORD_SIZE, 8));
    std::ptr::write_bytes(base, 0, len * RECORD_SIZE);
    for (i, record) in records.into_iter().enumerate() {
        let r = base.add(i * RECORD_SIZE);
        if let Some(key) = record.key {
            *r = 1;
            let (p, l) = give_bytes(key);
            write_u32(r.add(4), p);
            write_u32(r.add(8), l);
        }
        let (p, l) = give_bytes(record.value);
        write_u32(r.add(12), p);
        write_u32(r.add(16), l);
        let count = record.headers.len();
        let headers = if count == 0 { 4 as *mut u8 } else { alloc(Layout::from_size_align_unchecked(count * HEADER_SIZE, 4)) };
        for (h, header) in record.headers.into_iter().enumerate() {
            let hp = headers.add(h * HEADER_SIZE);
            let (p, l) = give_bytes(header.name.into_bytes());
            write_u32(hp, p);
            write_u32(hp.add(4), l);
            let (p, l) = give_bytes(header.value);
            write_u32(hp.add(8), p);
            write_u32(hp.add(12), l);
        }
        write_u32(r.add(20), headers as usize);
        write_u32(r.add(24), count);
        if let Some(time) = record.event_time {
            *r.add(32) = 1;
            std::ptr::copy_nonoverlapping(time.to_le_bytes().as_ptr(), r.add(40), 8);
        }
    }
    (base as usize, len)
}

unsafe fn free_records(ptr: usize, len: usize) {
    for i in 0..len {
        let r = (ptr + i * RECORD_SIZE) as *const u8;
        if *r != 0 {
            free(read_u32(r.add(4)), read_u32(r.add(8)), 1);
        }
        free(read_u32(r.add(12)), read_u32(r.add(16)), 1);
        let headers = read_u32(r.add(20));
        let count = read_u32(r.add(24));
        for h in 0..count {
            let hp = (headers + h * HEADER_SIZE) as *const u8;
            free(read_u32(hp), read_u32(hp.add(4)), 1);
            free(read_u32(hp.add(8)), read_u32(hp.add(12)), 1);
        }
        free(headers, count * HEADER_SIZE, 4);
    }
    free(ptr, len * RECORD_SIZE, 8);
}

unsafe fn write_error(area: *mut u8, error: Error) {
    let (case, message) = match error {
        Error::Transient(m) => (0u8, m),
        Error::InvalidInput(m) => (1u8, m),
        Error::Fatal(m) => (2u8, m),
    };
    *area = 1;
    *area.add(4) = case;
    let (p, l) = give_bytes(message.into_bytes());
    write_u32(area.add(8), p);
    write_u32(area.add(12), l);
}

/// Lowers `result<_, error>` into the return area.
pub unsafe fn return_unit(result: Result<(), Error>) -> *mut u8 {
    let area = return_area();
    match result {
        Ok(()) => *area = 0,
        Err(error) => write_error(area, error),
    }
    area
}

/// Lowers `result<list<record>, error>` into the return area.
pub unsafe fn return_records(result: Result<Vec<Record>, Error>) -> *mut u8 {
    let area = return_area();
    match result {
        Ok(records) => {
            *area = 0;
            let (p, l) = give_records(records);
            write_u32(area.add(4), p);
            write_u32(area.add(8), l);
        }
        Err(error) => write_error(area, error),
    }
    area
}

/// Lowers `result<list<u8>, error>` into the return area.
pub unsafe fn return_bytes(result: Result<Vec<u8>, Error>) -> *mut u8 {
    let area = return_area();
    match result {
        Ok(bytes) => {
            *area = 0;
            let (p, l) = give_bytes(bytes);
            write_u32(area.add(4), p);
            write_u32(area.add(8), l);
        }
        Err(error) => write_error(area, error),
    }
    area
}

unsafe fn free_error(area: *mut u8) {
    free(read_u32(area.add(8)), read_u32(area.add(12)), 1);
}

/// `cabi_post_*` of an export returning `result<_, error>`.
pub unsafe fn free_unit_result(area: *mut u8) {
    if *area != 0 {
        free_error(area);
    }
}

/// `cabi_post_*` of an export returning `result<list<record>, error>`.
pub unsafe fn free_records_result(area: *mut u8) {
    if *area == 0 {
        free_records(read_u32(area.add(4)), read_u32(area.add(8)));
    } else {
        free_error(area);
    }
}

/// `cabi_post_*` of an export returning `result<list<u8>, error>`.
pub unsafe fn free_bytes_result(area: *mut u8) {
    if *area == 0 {
        free(read_u32(area.add(4)), read_u32(area.add(8)), 1);
    } else {
        free_error(area);
    }
}
