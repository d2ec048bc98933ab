//! Example (uppercase, Rust): upper-cases the ASCII letters a-z of each record's
//! value. Config: {"tag": "..."} (optional) adds a header `uppercased-by`.
//! Twins: uppercase-js, uppercase-as (same output, byte for byte).
use weir::host::{log, Level};
use weir::{export_processor, json_string_field, Error, Header, Processor, Record};

#[derive(Default)]
struct Uppercase {
    tag: Option<String>,
}

impl Processor for Uppercase {
    fn configure(&mut self, config: &str) -> Result<(), Error> {
        self.tag = json_string_field(config, "tag");
        if self.tag.is_none() && config.contains("\"tag\"") {
            return Err(Error::InvalidInput("config.tag must be a string".into()));
        }
        log(Level::Info, "uppercase-rust configured");
        Ok(())
    }

    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        Ok(batch
            .into_iter()
            .map(|mut record| {
                record.value.make_ascii_uppercase();
                if let Some(tag) = &self.tag {
                    record.headers.push(Header { name: "uppercased-by".into(), value: tag.clone().into_bytes() });
                }
                record
            })
            .collect())
    }
}

export_processor!(Uppercase);
