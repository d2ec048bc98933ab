//! Nexmark q2, selection (Rust): the bids on every `auctionSkip`-th auction
//! (config, default 123: `auction % 123 == 0`), as {"auction","price"}; other
//! events are dropped. Key and event time are kept. World: processor.
//! Twin: nexmark-q2-js (same output, byte for byte).
//!
//! The packed call reads each event where it lies in the batch (one walk over
//! its fields, stopped once it has them) and writes the few selected bids to
//! the output batch: no allocation per record.
use weir::packed::{Reader, Writer};
use weir::{export_processor, Error, Processor, Record};

#[path = "../../nexmark-common/event_fields.rs"]
mod event_fields;
use event_fields::{for_each_member, is_string, parse_int};

#[path = "../../nexmark-common/json_out.rs"]
mod json_out;
use json_out::push_int;

struct Selection {
    auction_skip: i64,
    /// The value being written (reused from record to record).
    value: Vec<u8>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection { auction_skip: 123, value: Vec::new() }
    }
}

impl Selection {
    /// Writes `{"auction","price"}` into `out` (cleared first) for a selected bid; false for any other event.
    fn select(&self, value: &[u8], out: &mut Vec<u8>) -> bool {
        let (mut kind, mut auction, mut price) = (None, None, None);
        for_each_member(value, |name, text| {
            let slot = match name {
                b"type" => &mut kind,
                b"auction" => &mut auction,
                b"price" => &mut price,
                _ => return true,
            };
            if slot.is_none() {
                *slot = Some(text);
            }
            kind.is_none() || auction.is_none() || price.is_none()
        });
        let selected = (|| {
            if !is_string(kind?, b"bid") {
                return None;
            }
            let (auction, price) = (parse_int(auction?)?, parse_int(price?)?);
            if auction % self.auction_skip == 0 {
                Some((auction, price))
            } else {
                None
            }
        })();
        let (auction, price) = match selected {
            Some(selected) => selected,
            None => return false,
        };
        out.clear();
        out.extend_from_slice(b"{\"auction\":");
        push_int(out, auction);
        out.extend_from_slice(b",\"price\":");
        push_int(out, price);
        out.push(b'}');
        true
    }
}

impl Processor for Selection {
    fn configure(&mut self, config: &str) -> Result<(), Error> {
        match event_fields::field(config.as_bytes(), b"auctionSkip") {
            None => Ok(()),
            Some(text) => match parse_int(text) {
                Some(skip) if skip > 0 => {
                    self.auction_skip = skip;
                    Ok(())
                }
                _ => Err(Error::InvalidInput("config.auctionSkip must be a positive integer".into())),
            },
        }
    }

    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        let mut out = Vec::new();
        for record in batch {
            let mut value = Vec::new();
            if self.select(&record.value, &mut value) {
                out.push(Record { value, ..record });
            }
        }
        Ok(out)
    }

    fn process_packed(&mut self, batch: Vec<u8>) -> Result<Vec<u8>, Error> {
        let mut out = Writer::default();
        let mut value = std::mem::take(&mut self.value);
        for record in Reader::new(&batch)? {
            let record = record?;
            if self.select(record.value, &mut value) {
                out.push_view(&record, &value);
            }
        }
        self.value = value;
        Ok(out.finish())
    }
}

export_processor!(Selection);
