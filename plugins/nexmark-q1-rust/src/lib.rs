//! Nexmark q1, currency conversion (Rust): each bid as
//! {"auction","bidder","price","dateTime","extra"} with its price turned from
//! dollars to euros, price * 0.908, written exactly with three decimals (as
//! Flink's DECIMAL result); other events are dropped. Key and event time are
//! kept. World: processor. Twin: nexmark-q1-js (same output, byte for byte).
//!
//! The packed call reads each event where it lies in the batch (one walk over
//! its fields) and writes the output batch directly: no allocation per record.
use weir::packed::{Reader, Writer};
use weir::{export_processor, Error, Processor, Record};

#[path = "../../nexmark-common/event_fields.rs"]
mod event_fields;
use event_fields::{for_each_member, is_string, parse_int};

#[path = "../../nexmark-common/json_out.rs"]
mod json_out;
use json_out::{push_int, push_three_digits, push_uint};

#[derive(Default)]
struct CurrencyConversion {
    /// The value being written (reused from record to record).
    value: Vec<u8>,
}

/// The bid's fields q1 reads, each the first member of its name.
#[derive(Default)]
struct BidFields<'a> {
    kind: Option<&'a [u8]>,
    auction: Option<&'a [u8]>,
    bidder: Option<&'a [u8]>,
    price: Option<&'a [u8]>,
    date_time: Option<&'a [u8]>,
    extra: Option<&'a [u8]>,
}

/// Writes the converted bid into `out` (cleared first); false for anything but a bid with integer fields.
fn convert(value: &[u8], out: &mut Vec<u8>) -> bool {
    let mut fields = BidFields::default();
    for_each_member(value, |name, text| {
        let slot = match name {
            b"type" => &mut fields.kind,
            b"auction" => &mut fields.auction,
            b"bidder" => &mut fields.bidder,
            b"price" => &mut fields.price,
            b"dateTime" => &mut fields.date_time,
            b"extra" => &mut fields.extra,
            _ => return true,
        };
        if slot.is_none() {
            *slot = Some(text);
        }
        true
    });
    let parsed = (|| {
        if !is_string(fields.kind?, b"bid") {
            return None;
        }
        Some((parse_int(fields.auction?)?, parse_int(fields.bidder?)?, parse_int(fields.price?)?.checked_mul(908)?, parse_int(fields.date_time?)?))
    })();
    let (auction, bidder, milli_euros, date_time) = match parsed {
        Some(parsed) => parsed,
        None => return false,
    };
    out.clear();
    out.extend_from_slice(b"{\"auction\":");
    push_int(out, auction);
    out.extend_from_slice(b",\"bidder\":");
    push_int(out, bidder);
    out.extend_from_slice(b",\"price\":");
    if milli_euros < 0 {
        out.push(b'-');
    }
    let magnitude = milli_euros.unsigned_abs();
    push_uint(out, magnitude / 1000);
    out.push(b'.');
    push_three_digits(out, magnitude % 1000);
    out.extend_from_slice(b",\"dateTime\":");
    push_int(out, date_time);
    out.extend_from_slice(b",\"extra\":");
    out.extend_from_slice(fields.extra.unwrap_or(b"\"\""));
    out.push(b'}');
    true
}

impl Processor for CurrencyConversion {
    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        let mut out = Vec::with_capacity(batch.len());
        for record in batch {
            let mut value = Vec::new();
            if convert(&record.value, &mut value) {
                out.push(Record { value, ..record });
            }
        }
        Ok(out)
    }

    fn process_packed(&mut self, batch: Vec<u8>) -> Result<Vec<u8>, Error> {
        let mut out = Writer::with_capacity(batch.len());
        for record in Reader::new(&batch)? {
            let record = record?;
            if convert(record.value, &mut self.value) {
                out.push_view(&record, &self.value);
            }
        }
        Ok(out.finish())
    }
}

export_processor!(CurrencyConversion);
