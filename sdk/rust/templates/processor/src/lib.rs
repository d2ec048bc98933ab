//! {{name}}: a Weir processor in Rust. It upper-cases the ASCII letters of each
//! record's value; replace `process` with your own work. sdk/rust/README.md has the API.
use weir::host::{log, Level};
use weir::{export_processor, Error, Processor, Record};

#[derive(Default)]
struct Plugin;

impl Processor for Plugin {
    fn configure(&mut self, _config: &str) -> Result<(), Error> {
        log(Level::Info, "{{name}} configured");
        Ok(())
    }

    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        Ok(batch
            .into_iter()
            .map(|mut record| {
                record.value.make_ascii_uppercase();
                record
            })
            .collect())
    }
}

export_processor!(Plugin);
