//! Example (field filter, Rust): keeps the records whose value is a JSON object
//! with the string field config.field equal to config.equals, e.g.
//! {"field": "level", "equals": "error"}; every other record is dropped.
//! Twins: field-filter-js, field-filter-as (same output, byte for byte).
use weir::{export_processor, json_string_field, Error, Processor, Record};

#[derive(Default)]
struct FieldFilter {
    field: String,
    equals: String,
}

impl Processor for FieldFilter {
    fn configure(&mut self, config: &str) -> Result<(), Error> {
        match (json_string_field(config, "field"), json_string_field(config, "equals")) {
            (Some(field), Some(equals)) => {
                self.field = field;
                self.equals = equals;
                Ok(())
            }
            _ => Err(Error::InvalidInput("config needs \"field\" and \"equals\", both strings".into())),
        }
    }

    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        Ok(batch
            .into_iter()
            .filter(|record| json_string_field(&record.value_text(), &self.field).as_deref() == Some(self.equals.as_str()))
            .collect())
    }
}

export_processor!(FieldFilter);
