//! The records with the highest value of an integer field per key and window
//! (Rust; Nexmark q7 "highest bid" and the second stage of q5 "hot items").
//! Config: {"field": "price"} (the default). A window emits every record that
//! has the highest value (ties all kept, in arrival order), unchanged,
//! without a key and at event time `end - 1`; records without the field
//! (people and auctions, for "price") are not counted. Run on keyed bids it
//! gives each auction's highest bids; a second tumbling window of the same
//! size over its output gives the window's highest bids overall.
//! World: aggregator.
use weir::{export_aggregator, Aggregator, Error, Record, Window};

#[path = "../../nexmark-common/event_fields.rs"]
mod event_fields;

struct Highest {
    field: Vec<u8>,
}

impl Default for Highest {
    fn default() -> Self {
        Highest { field: b"price".to_vec() }
    }
}

// The accumulator: empty (nothing counted yet), or the highest value (8 bytes
// little-endian) followed by the records holding it, each as a 4-byte
// little-endian length and the value's bytes.
fn highest_of(accumulator: &[u8]) -> Option<i64> {
    if accumulator.len() < 8 {
        return None;
    }
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&accumulator[..8]);
    Some(i64::from_le_bytes(bytes))
}

fn push_value(accumulator: &mut Vec<u8>, value: &[u8]) {
    accumulator.extend_from_slice(&(value.len() as u32).to_le_bytes());
    accumulator.extend_from_slice(value);
}

fn values_of(accumulator: &[u8]) -> Vec<&[u8]> {
    let mut values = Vec::new();
    let mut i = 8;
    while i + 4 <= accumulator.len() {
        let mut len = [0u8; 4];
        len.copy_from_slice(&accumulator[i..i + 4]);
        let end = (i + 4 + u32::from_le_bytes(len) as usize).min(accumulator.len());
        values.push(&accumulator[i + 4..end]);
        i = end;
    }
    values
}

/// Folds `candidates`, records whose field is `value`, into `accumulator`.
fn fold(accumulator: Vec<u8>, value: i64, candidates: &[&[u8]]) -> Vec<u8> {
    match highest_of(&accumulator) {
        Some(highest) if highest > value => accumulator,
        Some(highest) if highest == value => {
            let mut accumulator = accumulator;
            for c in candidates {
                push_value(&mut accumulator, c);
            }
            accumulator
        }
        _ => {
            let mut fresh = value.to_le_bytes().to_vec();
            for c in candidates {
                push_value(&mut fresh, c);
            }
            fresh
        }
    }
}

impl Aggregator for Highest {
    fn configure(&mut self, config: &str) -> Result<(), Error> {
        if let Some(name) = weir::json_string_field(config, "field") {
            self.field = name.into_bytes();
        }
        Ok(())
    }

    fn accumulate(&mut self, accumulator: Option<Vec<u8>>, record: Record) -> Result<Vec<u8>, Error> {
        let accumulator = accumulator.unwrap_or_default();
        Ok(match event_fields::int_field(&record.value, &self.field) {
            Some(value) => fold(accumulator, value, &[&record.value]),
            None => accumulator,
        })
    }

    fn merge(&mut self, a: Vec<u8>, b: Vec<u8>) -> Result<Vec<u8>, Error> {
        Ok(match highest_of(&b) {
            Some(value) => fold(a, value, &values_of(&b)),
            None => a,
        })
    }

    fn emit(&mut self, _key: Option<Vec<u8>>, window: Window, accumulator: Vec<u8>) -> Result<Vec<Record>, Error> {
        Ok(values_of(&accumulator)
            .into_iter()
            .map(|value| Record { key: None, value: value.to_vec(), headers: Vec::new(), event_time: Some(window.end - 1) })
            .collect())
    }
}

export_aggregator!(Highest);
