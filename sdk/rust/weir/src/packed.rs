//! The packed batch format: a whole batch of records in one little-endian
//! buffer, what `process-packed` takes and returns (wit/plugin.wit, world
//! `packed-processor`; the host's codec is host/src/records/batch-codec.ts).
//!
//! ```text
//! batch  := u32 count, record{count}
//! record := u32 flags            bit 0: key present, bit 1: event time present
//!           i64 event_time       milliseconds since the epoch (0 when absent)
//!           u32 key_len,   key bytes
//!           u32 value_len, value bytes
//!           u32 header_count, header{header_count}
//! header := u32 name_len, name (UTF-8), u32 value_len, value bytes
//! ```
//!
//! [`Processor::process_packed`](crate::Processor::process_packed) decodes with
//! [`decode`] and encodes with [`encode`] by default. A processor that wants no
//! allocation per record overrides it and walks the batch with [`Reader`]
//! (borrowed [`RecordView`]s), writing its output with [`Writer`], or edits the
//! buffer in place and returns it.
use crate::{Error, Header, Record};

const FLAG_KEY: u32 = 1;
const FLAG_EVENT_TIME: u32 = 2;
/// Flags, event time and the three length fields: the least a record takes.
const MIN_RECORD: usize = 24;

/// One record of a packed batch, borrowed from the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordView<'a> {
    pub key: Option<&'a [u8]>,
    pub value: &'a [u8],
    /// The record's headers, still packed: read them with [`RecordView::headers`].
    headers: &'a [u8],
    header_count: usize,
    pub event_time: Option<i64>,
}

impl<'a> RecordView<'a> {
    /// The headers, in order, as (name, value).
    pub fn headers(&self) -> Headers<'a> {
        Headers { bytes: self.headers, left: self.header_count }
    }

    /// The number of headers.
    pub fn header_count(&self) -> usize {
        self.header_count
    }

    /// The first header named `name`.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// An owned copy of the record.
    pub fn to_record(&self) -> Record {
        Record {
            key: self.key.map(|k| k.to_vec()),
            value: self.value.to_vec(),
            headers: self.headers().map(|(name, value)| Header { name: name.to_string(), value: value.to_vec() }).collect(),
            event_time: self.event_time,
        }
    }
}

/// The headers of a [`RecordView`] (checked when the record was read).
#[derive(Clone, Debug)]
pub struct Headers<'a> {
    bytes: &'a [u8],
    left: usize,
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let mut cursor = Cursor { bytes: self.bytes, at: 0 };
        // Checked by Reader::next: both fields are in bounds and the name is UTF-8.
        let name = cursor.bytes().ok()?;
        let value = cursor.bytes().ok()?;
        self.bytes = &self.bytes[cursor.at..];
        Some((std::str::from_utf8(name).ok()?, value))
    }
}

/// Walks a packed batch record by record, without copying.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    cursor: Cursor<'a>,
    left: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `batch`; fails when it is too short to hold its record count.
    pub fn new(batch: &'a [u8]) -> Result<Reader<'a>, Error> {
        let mut cursor = Cursor { bytes: batch, at: 0 };
        let count = cursor.u32()? as usize;
        if count > (batch.len() - 4) / MIN_RECORD {
            return Err(malformed(format!("record count {} does not fit in {} bytes", count, batch.len())));
        }
        Ok(Reader { cursor, left: count })
    }

    /// Records not read yet.
    pub fn remaining(&self) -> usize {
        self.left
    }

    fn read(&mut self) -> Result<RecordView<'a>, Error> {
        let c = &mut self.cursor;
        let bytes: &'a [u8] = c.bytes;
        let flags = c.u32()?;
        let time = c.i64()?;
        let key = c.bytes()?;
        let value = c.bytes()?;
        let header_count = c.u32()? as usize;
        let start = c.at;
        for _ in 0..header_count {
            let name = c.bytes()?;
            if std::str::from_utf8(name).is_err() {
                return Err(malformed("a header name is not UTF-8".to_string()));
            }
            c.bytes()?;
        }
        Ok(RecordView {
            key: if flags & FLAG_KEY != 0 { Some(key) } else { None },
            value,
            headers: &bytes[start..c.at],
            header_count,
            event_time: if flags & FLAG_EVENT_TIME != 0 { Some(time) } else { None },
        })
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<RecordView<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            if self.cursor.at != self.cursor.bytes.len() {
                let trailing = self.cursor.bytes.len() - self.cursor.at;
                self.cursor.at = self.cursor.bytes.len();
                return Some(Err(malformed(format!("{} trailing bytes", trailing))));
            }
            return None;
        }
        self.left -= 1;
        let read = self.read();
        if read.is_err() {
            self.left = 0;
            self.cursor.at = self.cursor.bytes.len();
        }
        Some(read)
    }
}

/// Builds a packed batch record by record.
#[derive(Clone, Debug)]
pub struct Writer {
    bytes: Vec<u8>,
    count: u32,
}

impl Default for Writer {
    fn default() -> Self {
        Writer::with_capacity(0)
    }
}

impl Writer {
    /// A writer whose buffer starts with room for `bytes` bytes (the record count included).
    pub fn with_capacity(bytes: usize) -> Writer {
        let mut out = Vec::with_capacity(bytes.max(4));
        out.extend_from_slice(&[0; 4]);
        Writer { bytes: out, count: 0 }
    }

    /// Appends one record from its parts; `headers` are (name, value) pairs.
    pub fn push<'h, I>(&mut self, key: Option<&[u8]>, value: &[u8], headers: I, event_time: Option<i64>)
    where
        I: IntoIterator<Item = (&'h str, &'h [u8])>,
    {
        let flags = if key.is_some() { FLAG_KEY } else { 0 } | if event_time.is_some() { FLAG_EVENT_TIME } else { 0 };
        self.bytes.extend_from_slice(&flags.to_le_bytes());
        self.bytes.extend_from_slice(&event_time.unwrap_or(0).to_le_bytes());
        self.put(key.unwrap_or(&[]));
        self.put(value);
        let count_at = self.bytes.len();
        self.bytes.extend_from_slice(&[0; 4]);
        let mut count: u32 = 0;
        for (name, value) in headers {
            self.put(name.as_bytes());
            self.put(value);
            count += 1;
        }
        self.bytes[count_at..count_at + 4].copy_from_slice(&count.to_le_bytes());
        self.count += 1;
    }

    /// Appends a record read from a packed batch, with a new value.
    pub fn push_view(&mut self, record: &RecordView, value: &[u8]) {
        self.push(record.key, value, record.headers(), record.event_time);
    }

    /// Appends an owned record.
    pub fn push_record(&mut self, record: &Record) {
        self.push(record.key.as_deref(), &record.value, record.headers.iter().map(|h| (h.name.as_str(), h.value.as_slice())), record.event_time);
    }

    /// Records written so far.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when no record was written.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The packed batch.
    pub fn finish(mut self) -> Vec<u8> {
        self.bytes[0..4].copy_from_slice(&self.count.to_le_bytes());
        self.bytes
    }

    fn put(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(bytes);
    }
}

/// The exact packed size of `records`.
pub fn encoded_size(records: &[Record]) -> usize {
    let mut size = 4;
    for r in records {
        size += MIN_RECORD + r.key.as_ref().map_or(0, |k| k.len()) + r.value.len();
        for h in &r.headers {
            size += 8 + h.name.len() + h.value.len();
        }
    }
    size
}

/// Packs `records` into one buffer of exactly [`encoded_size`] bytes.
pub fn encode(records: &[Record]) -> Vec<u8> {
    let mut writer = Writer::with_capacity(encoded_size(records));
    for record in records {
        writer.push_record(record);
    }
    writer.finish()
}

/// Unpacks a batch into owned records.
pub fn decode(batch: &[u8]) -> Result<Vec<Record>, Error> {
    let reader = Reader::new(batch)?;
    let mut records = Vec::with_capacity(reader.remaining());
    for view in reader {
        records.push(view?.to_record());
    }
    Ok(records)
}

#[derive(Clone, Debug)]
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.bytes.len() - self.at {
            return Err(malformed(format!("truncated at byte {} (needed {} more bytes)", self.at, n)));
        }
        let slice = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, Error> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self) -> Result<i64, Error> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }

    fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let len = self.u32()? as usize;
        self.take(len)
    }
}

fn malformed(detail: String) -> Error {
    Error::InvalidInput(format!("malformed packed batch: {}", detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Record> {
        vec![
            Record { key: Some(b"k".to_vec()), value: b"hello".to_vec(), headers: vec![Header { name: "h".to_string(), value: b"x".to_vec() }], event_time: Some(-5) },
            Record { key: None, value: Vec::new(), headers: Vec::new(), event_time: None },
        ]
    }

    #[test]
    fn round_trips_records() {
        let bytes = encode(&sample());
        assert_eq!(bytes.len(), encoded_size(&sample()));
        assert_eq!(decode(&bytes).unwrap(), sample());
    }

    #[test]
    fn views_borrow_the_batch() {
        let bytes = encode(&sample());
        let views: Vec<RecordView> = Reader::new(&bytes).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(views[0].value, b"hello");
        assert_eq!(views[0].header("h"), Some(&b"x"[..]));
        let mut writer = Writer::default();
        writer.push_view(&views[0], b"HELLO");
        let out = decode(&writer.finish()).unwrap();
        assert_eq!(out[0].value, b"HELLO".to_vec());
        assert_eq!(out[0].headers, sample()[0].headers);
    }

    #[test]
    fn refuses_malformed_batches() {
        let bytes = encode(&sample());
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode(&trailing).is_err());
        assert!(decode(&[1, 0, 0, 0]).is_err());
        assert!(decode(&[]).is_err());
    }
}
