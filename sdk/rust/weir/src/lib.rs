//! Weir plugins in Rust: the `weir:plugin@0.1.0` contract (wit/plugin.wit) as
//! plain Rust types and traits, with the canonical-ABI glue written by hand so
//! that the crate has no dependencies (no wit-bindgen) and builds with rustc
//! 1.63 as well as current stable, for `wasm32-unknown-unknown`.
//!
//! A processor is a type implementing [`Processor`] plus one macro call:
//!
//! ```ignore
//! use weir::{export_processor, Error, Processor, Record};
//!
//! #[derive(Default)]
//! struct Shout;
//!
//! impl Processor for Shout {
//!     fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
//!         Ok(batch.into_iter().map(|mut r| { r.value.make_ascii_uppercase(); r }).collect())
//!     }
//! }
//!
//! export_processor!(Shout);
//! ```
//!
//! `host build` compiles the crate and turns the core module into a component
//! of the `processor` (or `service`) world. The host functions are in [`host`].

pub mod abi;
pub mod fault;
pub mod files;
pub mod host;
pub mod http;
pub mod json;
pub mod packed;

pub use json::{json_string_field, json_string_map};

/// One record header. Names may repeat; order is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Vec<u8>,
}

/// The unit of data flowing through a pipeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Partitioning key; `None` when the record has no key.
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<Header>,
    /// Event time in milliseconds since the Unix epoch.
    pub event_time: Option<i64>,
}

impl Record {
    /// The value as UTF-8 text (lossy).
    pub fn value_text(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }

    /// The first header named `name`.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|h| h.name == name).map(|h| h.value.as_slice())
    }
}

/// Why a call failed, and whether retrying can help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Retrying the same input later may succeed.
    Transient(String),
    /// This input can never succeed; skip it or dead-letter it.
    InvalidInput(String),
    /// The plugin cannot go on; the instance is recreated.
    Fatal(String),
}

/// A processor: configured once, then called with batches.
pub trait Processor {
    /// Called once with the node's `config` object as JSON text.
    fn configure(&mut self, _config: &str) -> Result<(), Error> {
        Ok(())
    }
    /// Returns the records to pass downstream: zero, one or many per input record.
    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error>;
    /// The same over one packed batch ([`packed`]), what the host calls when
    /// it holds its batch packed (export `process-packed`). The default
    /// unpacks the records, calls [`Processor::process`] and packs its
    /// output. Override it to work on the bytes (with [`packed::Reader`] and
    /// [`packed::Writer`], or in place) when allocating per record costs too
    /// much; it must give the same records as `process`.
    fn process_packed(&mut self, batch: Vec<u8>) -> Result<Vec<u8>, Error> {
        let records = packed::decode(&batch)?;
        drop(batch);
        let output = self.process(records)?;
        Ok(packed::encode(&output))
    }
}

/// An event-time window, [start, end) in milliseconds since the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

/// A windowed aggregation (world `aggregator`): the host keeps one accumulator
/// (bytes of the plugin's choosing) per key and window.
pub trait Aggregator {
    /// Called once with the node's `config` object as JSON text.
    fn configure(&mut self, _config: &str) -> Result<(), Error> {
        Ok(())
    }
    /// Folds `record` into `accumulator` (`None` for a window's first record).
    fn accumulate(&mut self, accumulator: Option<Vec<u8>>, record: Record) -> Result<Vec<u8>, Error>;
    /// Combines two accumulators of one key (session windows that grew together).
    fn merge(&mut self, a: Vec<u8>, b: Vec<u8>) -> Result<Vec<u8>, Error>;
    /// The records a closed window emits.
    fn emit(&mut self, key: Option<Vec<u8>>, window: Window, accumulator: Vec<u8>) -> Result<Vec<Record>, Error>;
}

/// A service: called by processors through `call-service`.
pub trait Service {
    /// Called once with the node's `config` object as JSON text.
    fn configure(&mut self, _config: &str) -> Result<(), Error> {
        Ok(())
    }
    /// Answers one call.
    fn call(&mut self, method: &str, payload: Vec<u8>) -> Result<Vec<u8>, Error>;
}

/// Makes a type implementing [`Processor`] (and `Default`) the plugin's
/// processor: exports `process` and `process-packed` (world `packed-processor`).
#[macro_export]
macro_rules! export_processor {
    ($t:ty) => {
        $crate::export_plugin_state!($t, $crate::Processor);

        #[export_name = "process"]
        pub unsafe extern "C" fn weir_export_process(ptr: *mut u8, len: usize) -> *mut u8 {
            let batch = $crate::abi::take_records(ptr, len);
            $crate::abi::return_records(<$t as $crate::Processor>::process(weir_plugin(), batch))
        }

        #[export_name = "cabi_post_process"]
        pub unsafe extern "C" fn weir_post_process(area: *mut u8) {
            $crate::abi::free_records_result(area)
        }

        #[export_name = "process-packed"]
        pub unsafe extern "C" fn weir_export_process_packed(ptr: *mut u8, len: usize) -> *mut u8 {
            let batch = $crate::abi::take_bytes(ptr, len);
            $crate::abi::return_bytes(<$t as $crate::Processor>::process_packed(weir_plugin(), batch))
        }

        #[export_name = "cabi_post_process-packed"]
        pub unsafe extern "C" fn weir_post_process_packed(area: *mut u8) {
            $crate::abi::free_bytes_result(area)
        }
    };
}

/// Makes a type implementing [`Service`] (and `Default`) the plugin's service.
#[macro_export]
macro_rules! export_service {
    ($t:ty) => {
        $crate::export_plugin_state!($t, $crate::Service);

        #[export_name = "call"]
        pub unsafe extern "C" fn weir_export_call(method_ptr: *mut u8, method_len: usize, ptr: *mut u8, len: usize) -> *mut u8 {
            let method = $crate::abi::take_string(method_ptr, method_len);
            let payload = $crate::abi::take_bytes(ptr, len);
            $crate::abi::return_bytes(<$t as $crate::Service>::call(weir_plugin(), &method, payload))
        }

        #[export_name = "cabi_post_call"]
        pub unsafe extern "C" fn weir_post_call(area: *mut u8) {
            $crate::abi::free_bytes_result(area)
        }
    };
}

/// Makes a type implementing [`Aggregator`] (and `Default`) the plugin's aggregator.
#[macro_export]
macro_rules! export_aggregator {
    ($t:ty) => {
        $crate::export_plugin_state!($t, $crate::Aggregator);

        #[export_name = "accumulate"]
        #[allow(clippy::too_many_arguments)]
        pub unsafe extern "C" fn weir_export_accumulate(
            acc_present: i32, acc_ptr: *mut u8, acc_len: usize,
            key_present: i32, key_ptr: *mut u8, key_len: usize,
            value_ptr: *mut u8, value_len: usize,
            headers_ptr: *mut u8, header_count: usize,
            time_present: i32, time: i64,
        ) -> *mut u8 {
            let accumulator = $crate::abi::take_optional_bytes(acc_present, acc_ptr, acc_len);
            let record = $crate::abi::take_flat_record(key_present, key_ptr, key_len, value_ptr, value_len, headers_ptr, header_count, time_present, time);
            $crate::abi::return_bytes(<$t as $crate::Aggregator>::accumulate(weir_plugin(), accumulator, record))
        }

        #[export_name = "cabi_post_accumulate"]
        pub unsafe extern "C" fn weir_post_accumulate(area: *mut u8) {
            $crate::abi::free_bytes_result(area)
        }

        #[export_name = "merge"]
        pub unsafe extern "C" fn weir_export_merge(a_ptr: *mut u8, a_len: usize, b_ptr: *mut u8, b_len: usize) -> *mut u8 {
            let a = $crate::abi::take_bytes(a_ptr, a_len);
            let b = $crate::abi::take_bytes(b_ptr, b_len);
            $crate::abi::return_bytes(<$t as $crate::Aggregator>::merge(weir_plugin(), a, b))
        }

        #[export_name = "cabi_post_merge"]
        pub unsafe extern "C" fn weir_post_merge(area: *mut u8) {
            $crate::abi::free_bytes_result(area)
        }

        #[export_name = "emit"]
        pub unsafe extern "C" fn weir_export_emit(
            key_present: i32, key_ptr: *mut u8, key_len: usize,
            start: i64, end: i64,
            acc_ptr: *mut u8, acc_len: usize,
        ) -> *mut u8 {
            let key = $crate::abi::take_optional_bytes(key_present, key_ptr, key_len);
            let accumulator = $crate::abi::take_bytes(acc_ptr, acc_len);
            $crate::abi::return_records(<$t as $crate::Aggregator>::emit(weir_plugin(), key, $crate::Window { start, end }, accumulator))
        }

        #[export_name = "cabi_post_emit"]
        pub unsafe extern "C" fn weir_post_emit(area: *mut u8) {
            $crate::abi::free_records_result(area)
        }
    };
}

/// The plugin instance, `configure` and `cabi_realloc`: what every world's exports share.
#[macro_export]
#[doc(hidden)]
macro_rules! export_plugin_state {
    ($t:ty, $world:path) => {
        static mut WEIR_PLUGIN: Option<$t> = None;

        fn weir_plugin() -> &'static mut $t {
            // Every export reaches its plugin through here: a panic from now on reaches the host with its message.
            $crate::fault::install_panic_hook();
            unsafe { (*::std::ptr::addr_of_mut!(WEIR_PLUGIN)).get_or_insert_with(<$t as ::std::default::Default>::default) }
        }

        $crate::export_cabi_realloc!();

        #[export_name = "configure"]
        pub unsafe extern "C" fn weir_export_configure(ptr: *mut u8, len: usize) -> *mut u8 {
            let config = $crate::abi::take_string(ptr, len);
            $crate::abi::return_unit(<$t as $world>::configure(weir_plugin(), &config))
        }

        #[export_name = "cabi_post_configure"]
        pub unsafe extern "C" fn weir_post_configure(area: *mut u8) {
            $crate::abi::free_unit_result(area)
        }
    };
}

/// Exports `cabi_realloc`, the allocator the host lowers arguments and results with.
#[macro_export]
#[doc(hidden)]
macro_rules! export_cabi_realloc {
    () => {
        #[no_mangle]
        pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
            $crate::abi::realloc(old, old_size, align, new_size)
        }
    };
}
