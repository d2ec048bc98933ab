//! Example (session windows, Rust): groups each user's clicks (record key; the
//! value is the page) into sessions; each session emits
//! {"user", "start", "end", "clicks", "pages"}. World: aggregator.
//! Twin: click-sessions-js (same output, byte for byte).
use weir::{export_aggregator, Aggregator, Error, Record, Window};

#[derive(Default)]
struct ClickSessions;

// The accumulator: the pages, one per line.
fn pages(accumulator: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(accumulator).split('\n').filter(|p| !p.is_empty()).map(String::from).collect()
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Aggregator for ClickSessions {
    fn accumulate(&mut self, accumulator: Option<Vec<u8>>, record: Record) -> Result<Vec<u8>, Error> {
        let mut acc = accumulator.unwrap_or_default();
        acc.extend_from_slice(&record.value);
        acc.push(b'\n');
        Ok(acc)
    }

    fn merge(&mut self, mut a: Vec<u8>, b: Vec<u8>) -> Result<Vec<u8>, Error> {
        a.extend_from_slice(&b);
        Ok(a)
    }

    fn emit(&mut self, key: Option<Vec<u8>>, window: Window, accumulator: Vec<u8>) -> Result<Vec<Record>, Error> {
        let pages = pages(&accumulator);
        let user = match &key {
            Some(k) => json_string(&String::from_utf8_lossy(k)),
            None => "null".into(),
        };
        let list: Vec<String> = pages.iter().map(|p| json_string(p)).collect();
        let value = format!(
            "{{\"user\":{},\"start\":{},\"end\":{},\"clicks\":{},\"pages\":[{}]}}",
            user, window.start, window.end, pages.len(), list.join(",")
        );
        Ok(vec![Record { key, value: value.into_bytes(), headers: Vec::new(), event_time: Some(window.end - 1) }])
    }
}

export_aggregator!(ClickSessions);
