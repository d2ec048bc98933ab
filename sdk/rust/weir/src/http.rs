//! Outgoing HTTP (`weir:plugin/http`): requests to the hosts the node grants
//! (`"capabilities": {"http": {"hosts": [...]}}` in pipeline.json). A plugin
//! that calls [`send`] imports the interface; the host refuses it at load on a
//! node without the grant.
//!
//! ```ignore
//! let response = weir::http::send(&weir::http::Request::get("https://api.example.com/v1/items"))?;
//! if response.status == 200 { /* response.body */ }
//! ```
use crate::abi::{read_u32, take_bytes, take_headers};
use crate::Error;

/// An HTTP request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// An absolute http or https URL.
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Empty: no body.
    pub body: Vec<u8>,
}

impl Request {
    /// A GET of `url`.
    pub fn get(url: &str) -> Request {
        Request { method: "GET".into(), url: url.into(), ..Request::default() }
    }

    /// A POST of `body` to `url`.
    pub fn post(url: &str, body: Vec<u8>) -> Request {
        Request { method: "POST".into(), url: url.into(), body, ..Request::default() }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A whole HTTP response (any status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

mod raw {
    #[link(wasm_import_module = "weir:plugin/http@0.1.0")]
    extern "C" {
        #[allow(clippy::too_many_arguments)]
        pub fn send(
            mp: *const u8, ml: usize, up: *const u8, ul: usize,
            hp: *const u8, hl: usize, bp: *const u8, bl: usize, ret: *mut u8,
        );
    }
}

/// `result<response, error>`: discriminant at 0; the response's status at 4,
/// headers at 8, body at 16; the error's case at 4 and its string at 8.
#[repr(C, align(4))]
struct Ret([u8; 24]);

/// Sends `request` and waits for the whole response. Redirects are followed
/// (at most 5) to granted hosts only. `Error::InvalidInput`: the host is not
/// granted, the URL or method is malformed, or the body is over the grant's
/// `maxResponseBytes`; `Error::Transient`: timeout or connection failure.
pub fn send(request: &Request) -> Result<Response, Error> {
    // list<tuple<string, string>>: (name ptr, name len, value ptr, value len) per header.
    let headers: Vec<[u32; 4]> = request
        .headers
        .iter()
        .map(|(n, v)| [n.as_ptr() as u32, n.len() as u32, v.as_ptr() as u32, v.len() as u32])
        .collect();
    let mut ret = Ret([0; 24]);
    unsafe {
        raw::send(
            request.method.as_ptr(), request.method.len(),
            request.url.as_ptr(), request.url.len(),
            headers.as_ptr() as *const u8, headers.len(),
            request.body.as_ptr(), request.body.len(),
            ret.0.as_mut_ptr(),
        );
        let at = ret.0.as_ptr();
        if *at == 0 {
            let status = u16::from_le_bytes([*at.add(4), *at.add(5)]);
            // A (string, string) tuple has the layout of a header record (string, list<u8>).
            let headers = take_headers(read_u32(at.add(8)) as *mut u8, read_u32(at.add(12)))
                .into_iter()
                .map(|h| (h.name, String::from_utf8_lossy(&h.value).into_owned()))
                .collect();
            let body = take_bytes(read_u32(at.add(16)) as *mut u8, read_u32(at.add(20)));
            return Ok(Response { status, headers, body });
        }
        let message = crate::abi::take_string(read_u32(at.add(8)) as *mut u8, read_u32(at.add(12)));
        Err(match *at.add(4) {
            0 => Error::Transient(message),
            1 => Error::InvalidInput(message),
            _ => Error::Fatal(message),
        })
    }
}
