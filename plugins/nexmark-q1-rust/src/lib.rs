//! Nexmark q1, currency conversion (Rust): each bid as
//! {"auction","bidder","price","dateTime","extra"} with its price turned from
//! dollars to euros, price * 0.908, written exactly with three decimals (as
//! Flink's DECIMAL result); other events are dropped. Key and event time are
//! kept. World: processor. Twin: nexmark-q1-js (same output, byte for byte).
use weir::{export_processor, Error, Processor, Record};

#[path = "../../nexmark-common/event_fields.rs"]
mod event_fields;
use event_fields::{field, int_field, is_type};

#[derive(Default)]
struct CurrencyConversion;

fn convert(value: &[u8]) -> Option<Vec<u8>> {
    if !is_type(value, b"bid") {
        return None;
    }
    let auction = int_field(value, b"auction")?;
    let bidder = int_field(value, b"bidder")?;
    let milli_euros = int_field(value, b"price")?.checked_mul(908)?;
    let date_time = int_field(value, b"dateTime")?;
    let extra = field(value, b"extra").unwrap_or(b"\"\"");
    let sign = if milli_euros < 0 { "-" } else { "" };
    let magnitude = milli_euros.unsigned_abs();
    let mut out = format!(
        "{{\"auction\":{},\"bidder\":{},\"price\":{}{}.{:03},\"dateTime\":{},\"extra\":",
        auction,
        bidder,
        sign,
        magnitude / 1000,
        magnitude % 1000,
        date_time
    )
    .into_bytes();
    out.extend_from_slice(extra);
    out.push(b'}');
    Some(out)
}

impl Processor for CurrencyConversion {
    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        let mut out = Vec::with_capacity(batch.len());
        for record in batch {
            if let Some(value) = convert(&record.value) {
                out.push(Record { value, ..record });
            }
        }
        Ok(out)
    }
}

export_processor!(CurrencyConversion);
