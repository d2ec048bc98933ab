//! {{name}}: a Weir service in Rust. Processors call it through the host import
//! call-service("<node id>", method, payload). Method "upper" returns the payload
//! upper-cased; any other method is an invalid-input error.
use weir::{export_service, Error, Service};

#[derive(Default)]
struct Plugin;

impl Service for Plugin {
    fn call(&mut self, method: &str, mut payload: Vec<u8>) -> Result<Vec<u8>, Error> {
        if method != "upper" {
            return Err(Error::InvalidInput(format!("{{name}} has no method \"{}\"", method)));
        }
        payload.make_ascii_uppercase();
        Ok(payload)
    }
}

export_service!(Plugin);
