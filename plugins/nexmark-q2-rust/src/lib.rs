//! Nexmark q2, selection (Rust): the bids on every `auctionSkip`-th auction
//! (config, default 123: `auction % 123 == 0`), as {"auction","price"}; other
//! events are dropped. Key and event time are kept. World: processor.
//! Twin: nexmark-q2-js (same output, byte for byte).
use weir::{export_processor, Error, Processor, Record};

#[path = "../../nexmark-common/event_fields.rs"]
mod event_fields;
use event_fields::{int_field, is_type};

struct Selection {
    auction_skip: i64,
}

impl Default for Selection {
    fn default() -> Self {
        Selection { auction_skip: 123 }
    }
}

impl Processor for Selection {
    fn configure(&mut self, config: &str) -> Result<(), Error> {
        match event_fields::field(config.as_bytes(), b"auctionSkip") {
            None => Ok(()),
            Some(text) => match event_fields::parse_int(text) {
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
            if !is_type(&record.value, b"bid") {
                continue;
            }
            if let (Some(auction), Some(price)) = (int_field(&record.value, b"auction"), int_field(&record.value, b"price")) {
                if auction % self.auction_skip == 0 {
                    let value = format!("{{\"auction\":{},\"price\":{}}}", auction, price).into_bytes();
                    out.push(Record { value, ..record });
                }
            }
        }
        Ok(out)
    }
}

export_processor!(Selection);
