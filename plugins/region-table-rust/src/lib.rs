//! Example (file grant, Rust): loads a table of "name region" lines from a
//! directory the node grants, once in configure, and adds each record's region
//! as a header `region` ("unknown" when the table has no entry or the record no
//! key). Config: {"table": "<path as the plugin sees it>"} (default
//! "/reference/regions.txt"). A missing table fails configure with its errno.
//! Twins: region-table-js, region-table-as (same output, byte for byte).
use std::collections::HashMap;
use weir::files::read_file;
use weir::{export_processor, json_string_field, Error, Header, Processor, Record};

#[derive(Default)]
struct RegionTable {
    regions: HashMap<Vec<u8>, Vec<u8>>,
}

impl Processor for RegionTable {
    fn configure(&mut self, config: &str) -> Result<(), Error> {
        let path = json_string_field(config, "table").unwrap_or_else(|| "/reference/regions.txt".into());
        let data = read_file(&path).map_err(|e| Error::Fatal(format!("cannot read the region table: {} (errno {})", e.message, e.errno)))?;
        self.regions = String::from_utf8_lossy(&data)
            .lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                Some((words.next()?.as_bytes().to_vec(), words.next()?.as_bytes().to_vec()))
            })
            .collect();
        Ok(())
    }

    fn process(&mut self, batch: Vec<Record>) -> Result<Vec<Record>, Error> {
        Ok(batch
            .into_iter()
            .map(|mut record| {
                let region = record.key.as_ref().and_then(|key| self.regions.get(key)).cloned().unwrap_or_else(|| b"unknown".to_vec());
                record.headers.push(Header { name: "region".into(), value: region });
                record
            })
            .collect())
    }
}

export_processor!(RegionTable);
