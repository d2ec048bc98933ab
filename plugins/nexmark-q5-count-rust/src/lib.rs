//! Nexmark q5, hot items, first stage (Rust): counts the bids of each auction
//! (the record key, which the `nexmark` source sets to a bid's auction id) in
//! each window, and emits {"auction","count","start","end"} per auction and
//! window, without a key and at event time `end - 1`, so a tumbling window
//! of the slide's length downstream (nexmark-highest-rust) sees each sliding
//! window's counts together. Other events are not counted; an auction
//! without bids in a window emits nothing. World: aggregator.
use weir::{export_aggregator, Aggregator, Error, Record, Window};

#[path = "../../nexmark-common/event_fields.rs"]
mod event_fields;

#[derive(Default)]
struct BidCount;

// The accumulator: the count, 8 bytes little-endian.
fn count_of(accumulator: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = accumulator.len().min(8);
    bytes[..n].copy_from_slice(&accumulator[..n]);
    u64::from_le_bytes(bytes)
}

impl Aggregator for BidCount {
    fn accumulate(&mut self, accumulator: Option<Vec<u8>>, record: Record) -> Result<Vec<u8>, Error> {
        let count = accumulator.as_deref().map_or(0, count_of);
        let bid = event_fields::is_type(&record.value, b"bid") as u64;
        Ok((count + bid).to_le_bytes().to_vec())
    }

    fn merge(&mut self, a: Vec<u8>, b: Vec<u8>) -> Result<Vec<u8>, Error> {
        Ok((count_of(&a) + count_of(&b)).to_le_bytes().to_vec())
    }

    fn emit(&mut self, key: Option<Vec<u8>>, window: Window, accumulator: Vec<u8>) -> Result<Vec<Record>, Error> {
        let count = count_of(&accumulator);
        if count == 0 {
            return Ok(Vec::new());
        }
        let auction = key.as_deref().and_then(event_fields::parse_int).ok_or_else(|| Error::InvalidInput("a bid's key must be its auction id (decimal)".into()))?;
        let value = format!("{{\"auction\":{},\"count\":{},\"start\":{},\"end\":{}}}", auction, count, window.start, window.end);
        Ok(vec![Record { key: None, value: value.into_bytes(), headers: Vec::new(), event_time: Some(window.end - 1) }])
    }
}

export_aggregator!(BidCount);
