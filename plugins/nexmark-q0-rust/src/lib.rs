//! Nexmark q0, pass-through (Rust): every event unchanged. It measures what
//! the host costs around a plugin that does nothing. World: processor.
use weir::{export_processor, Error, Processor, Record};

#[derive(Default)]
struct PassThrough;

impl Processor for PassThrough {
    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        Ok(batch)
    }
}

export_processor!(PassThrough);
