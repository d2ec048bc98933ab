//! Makes a panic visible to the host. Plugins are built with `panic=abort`,
//! so a panic ends in a wasm trap that says only "unreachable". The hook
//! installed here first hands the panic's message and `file:line:column` to
//! the host as a log line the host recognises (host/src/errors/guest-fault.ts),
//! which puts it into the trap's error, its log line and dead-letter headers.
//! The export macros install it on every call; installing is idempotent.
use std::sync::Once;

/// The prefix the host recognises on a fault report (NUL-delimited: no ordinary log line has it).
pub const GUEST_FAULT_MARKER: &str = "\u{0}weir:fault\u{0}";

/// The most bytes of a panic message reported (the host cuts long messages too).
const MAX_REPORT: usize = 4096;

static INSTALL: Once = Once::new();

/// Installs the panic hook (once).
pub fn install_panic_hook() {
    INSTALL.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let message = if let Some(text) = payload.downcast_ref::<&str>() {
                text
            } else if let Some(text) = payload.downcast_ref::<String>() {
                text.as_str()
            } else {
                "(a panic payload that is not text)"
            };
            let report = match info.location() {
                Some(at) => format!("{}panicked at {}:{}:{}: {}", GUEST_FAULT_MARKER, at.file(), at.line(), at.column(), message),
                None => format!("{}panicked: {}", GUEST_FAULT_MARKER, message),
            };
            crate::host::log(crate::host::Level::Error, cut(&report, MAX_REPORT));
        }));
    });
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}
