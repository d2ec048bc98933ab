//! Example (service, Rust): a lookup table from config, {"table": {"alice": "eu", ...}}.
//! Method "get" with a key as payload returns its value; a missing key is an
//! invalid-input error. Twin: regions-service-js.
use std::collections::HashMap;
use weir::{export_service, json_string_map, Error, Service};

#[derive(Default)]
struct Regions {
    table: HashMap<Vec<u8>, Vec<u8>>,
}

impl Service for Regions {
    fn configure(&mut self, config: &str) -> Result<(), Error> {
        let entries = json_string_map(config, "table").ok_or_else(|| Error::InvalidInput("config.table must be an object of strings".into()))?;
        self.table = entries.into_iter().map(|(k, v)| (k.into_bytes(), v.into_bytes())).collect();
        Ok(())
    }

    fn call(&mut self, method: &str, payload: Vec<u8>) -> Result<Vec<u8>, Error> {
        if method != "get" {
            return Err(Error::InvalidInput(format!("no method \"{}\" (this service has \"get\")", method)));
        }
        self.table
            .get(&payload)
            .cloned()
            .ok_or_else(|| Error::InvalidInput(format!("no entry for \"{}\"", String::from_utf8_lossy(&payload))))
    }
}

export_service!(Regions);
