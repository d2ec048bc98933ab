//! Example (enrich with keyed state, Rust): counts the records of each key in the
//! node's keyed state and adds a header `count` with the running count (records
//! without a key count under the empty key).
//! Twins: count-by-key-js, count-by-key-as (same output, byte for byte).
use weir::host::state;
use weir::{export_processor, Error, Header, Processor, Record};

#[derive(Default)]
struct CountByKey;

impl Processor for CountByKey {
    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        Ok(batch
            .into_iter()
            .map(|mut record| {
                let key = record.key.clone().unwrap_or_default();
                let previous = state::get(&key).and_then(|v| String::from_utf8(v).ok()).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
                let count = (previous + 1).to_string();
                state::set(&key, count.as_bytes());
                record.headers.push(Header { name: "count".into(), value: count.into_bytes() });
                record
            })
            .collect())
    }
}

export_processor!(CountByKey);
