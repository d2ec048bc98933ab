//! Nexmark q0, pass-through (Rust): every event unchanged. It measures what
//! the host costs around a plugin that does nothing. World: processor.
//!
//! The packed call returns the batch it was given, as it is: nothing is
//! decoded or copied in the plugin.
use weir::{export_processor, Error, Processor, Record};

#[derive(Default)]
struct PassThrough;

impl Processor for PassThrough {
    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        Ok(batch)
    }

    fn process_packed(&mut self, batch: Vec<u8>) -> Result<Vec<u8>, Error> {
        Ok(batch)
    }
}

export_processor!(PassThrough);
