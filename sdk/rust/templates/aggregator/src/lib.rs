//! {{name}}: a Weir aggregator in Rust. It runs as a windowed processor (the node
//! sets "window" in pipeline.json) and counts the records of each key in each
//! window; replace the methods with your own. sdk/rust/README.md has the API.
use weir::{export_aggregator, Aggregator, Error, Record, Window};

#[derive(Default)]
struct Plugin;

// The accumulator is bytes the host keeps for each key and window: here the count, as text.
fn count(accumulator: &[u8]) -> u64 {
    String::from_utf8_lossy(accumulator).parse().unwrap_or(0)
}

impl Aggregator for Plugin {
    fn accumulate(&mut self, accumulator: Option<Vec<u8>>, _record: Record) -> Result<Vec<u8>, Error> {
        Ok((accumulator.map_or(0, |a| count(&a)) + 1).to_string().into_bytes())
    }

    // Two accumulators of one key become one (session windows that grow together).
    fn merge(&mut self, a: Vec<u8>, b: Vec<u8>) -> Result<Vec<u8>, Error> {
        Ok((count(&a) + count(&b)).to_string().into_bytes())
    }

    // A closed window: the records it emits, here one with the count.
    fn emit(&mut self, key: Option<Vec<u8>>, window: Window, accumulator: Vec<u8>) -> Result<Vec<Record>, Error> {
        let value = format!("{{\"start\":{},\"end\":{},\"count\":{}}}", window.start, window.end, count(&accumulator));
        Ok(vec![Record { key, value: value.into_bytes(), headers: Vec::new(), event_time: Some(window.end - 1) }])
    }
}

export_aggregator!(Plugin);
