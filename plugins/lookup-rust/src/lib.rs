//! Example (service call, Rust): asks a lookup service for each record's key and
//! adds the answer as a header `region` ("unknown" when the service has no entry
//! or the record no key). Config: {"service": "<service node id>"} (default
//! "regions"); the service's method is "get".
//! Twins: lookup-js, lookup-as (same output, byte for byte).
use weir::host::call_service;
use weir::{export_processor, json_string_field, Error, Header, Processor, Record};

#[derive(Default)]
struct Lookup {
    service: Option<String>,
}

impl Processor for Lookup {
    fn configure(&mut self, config: &str) -> Result<(), Error> {
        self.service = json_string_field(config, "service");
        Ok(())
    }

    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        let service = self.service.as_deref().unwrap_or("regions");
        Ok(batch
            .into_iter()
            .map(|mut record| {
                let region = match &record.key {
                    Some(key) => call_service(service, "get", key).unwrap_or_else(|_| b"unknown".to_vec()),
                    None => b"unknown".to_vec(),
                };
                record.headers.push(Header { name: "region".into(), value: region });
                record
            })
            .collect())
    }
}

export_processor!(Lookup);
