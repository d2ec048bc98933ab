//! Files in the directories the node grants (`weir:plugin/files`;
//! `"capabilities": {"filesystem": [{"dir": "lookup", "mode": "ro"}]}` in
//! pipeline.json), by the paths the plugin sees: `/lookup/table.csv` is
//! `table.csv` in the folder granted as `/lookup`. A plugin that calls these
//! imports the interface; the host refuses it at load on a node without a
//! directory grant.
//!
//! ```ignore
//! let table = weir::files::read_file("/lookup/table.csv").map_err(|e| weir::Error::Fatal(e.message))?;
//! ```
use crate::abi::{read_u32, take_bytes, take_string};

/// Why a file operation failed: the WASI errno (44 no such file, 76 outside
/// every granted directory, 69 read-only grant, 20 exists, 54 not a
/// directory, 31 is a directory, 55 not empty, 22 too large) and a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileError {
    pub errno: u16,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (errno {})", self.message, self.errno)
    }
}

mod raw {
    #[link(wasm_import_module = "weir:plugin/files@0.1.0")]
    extern "C" {
        #[link_name = "read-file"]
        pub fn read_file(pp: *const u8, pl: usize, ret: *mut u8);
        #[link_name = "write-file"]
        pub fn write_file(pp: *const u8, pl: usize, dp: *const u8, dl: usize, ret: *mut u8);
        #[link_name = "append-file"]
        pub fn append_file(pp: *const u8, pl: usize, dp: *const u8, dl: usize, ret: *mut u8);
        #[link_name = "list-dir"]
        pub fn list_dir(pp: *const u8, pl: usize, ret: *mut u8);
        #[link_name = "make-dir"]
        pub fn make_dir(pp: *const u8, pl: usize, ret: *mut u8);
        #[link_name = "remove-file"]
        pub fn remove_file(pp: *const u8, pl: usize, ret: *mut u8);
    }
}

/// `result<T, file-error>`: discriminant at 0; the ok list at 4; the error's
/// errno (u16) at 4 and its message at 8.
#[repr(C, align(4))]
struct Ret([u8; 16]);

impl Ret {
    fn new() -> Ret {
        Ret([0; 16])
    }

    /// The error, when the call failed.
    unsafe fn error(&self) -> Option<FileError> {
        let at = self.0.as_ptr();
        if *at == 0 {
            return None;
        }
        Some(FileError {
            errno: u16::from_le_bytes([*at.add(4), *at.add(5)]),
            message: take_string(read_u32(at.add(8)) as *mut u8, read_u32(at.add(12))),
        })
    }

    /// The ok list's (ptr, len).
    unsafe fn list(&self) -> (*mut u8, usize) {
        let at = self.0.as_ptr();
        (read_u32(at.add(4)) as *mut u8, read_u32(at.add(8)))
    }

    unsafe fn unit(self) -> Result<(), FileError> {
        match self.error() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// The whole file.
pub fn read_file(path: &str) -> Result<Vec<u8>, FileError> {
    let mut ret = Ret::new();
    unsafe {
        raw::read_file(path.as_ptr(), path.len(), ret.0.as_mut_ptr());
        if let Some(error) = ret.error() {
            return Err(error);
        }
        let (ptr, len) = ret.list();
        Ok(take_bytes(ptr, len))
    }
}

/// Creates or replaces the file (grant mode `rw`).
pub fn write_file(path: &str, data: &[u8]) -> Result<(), FileError> {
    let mut ret = Ret::new();
    unsafe {
        raw::write_file(path.as_ptr(), path.len(), data.as_ptr(), data.len(), ret.0.as_mut_ptr());
        ret.unit()
    }
}

/// Appends to the file, creating it if needed (grant mode `rw`).
pub fn append_file(path: &str, data: &[u8]) -> Result<(), FileError> {
    let mut ret = Ret::new();
    unsafe {
        raw::append_file(path.as_ptr(), path.len(), data.as_ptr(), data.len(), ret.0.as_mut_ptr());
        ret.unit()
    }
}

/// The names in a directory, sorted.
pub fn list_dir(path: &str) -> Result<Vec<String>, FileError> {
    let mut ret = Ret::new();
    unsafe {
        raw::list_dir(path.as_ptr(), path.len(), ret.0.as_mut_ptr());
        if let Some(error) = ret.error() {
            return Err(error);
        }
        let (ptr, count) = ret.list();
        let mut names = Vec::with_capacity(count);
        for i in 0..count {
            let p = ptr.add(i * 8);
            names.push(take_string(read_u32(p) as *mut u8, read_u32(p.add(4))));
        }
        crate::abi::free(ptr as usize, count * 8, 4);
        Ok(names)
    }
}

/// Creates one directory (grant mode `rw`).
pub fn make_dir(path: &str) -> Result<(), FileError> {
    let mut ret = Ret::new();
    unsafe {
        raw::make_dir(path.as_ptr(), path.len(), ret.0.as_mut_ptr());
        ret.unit()
    }
}

/// Removes a file (grant mode `rw`).
pub fn remove_file(path: &str) -> Result<(), FileError> {
    let mut ret = Ret::new();
    unsafe {
        raw::remove_file(path.as_ptr(), path.len(), ret.0.as_mut_ptr());
        ret.unit()
    }
}
