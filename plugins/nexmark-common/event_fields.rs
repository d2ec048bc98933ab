//! Reads the top-level fields of a flat JSON object, such as a Nexmark event
//! of the `nexmark` source, without a JSON crate. The Nexmark query plugins
//! include this file (`#[path = "../../nexmark-common/event_fields.rs"]`).
//!
//! It walks the object's members, skipping over strings (with escapes),
//! nested objects and arrays, so a field name inside a string value never
//! matches. Input it cannot walk gives `None`: the caller treats the record
//! as not having the field.

/// The raw JSON text of the top-level member `name` of the object `json`
/// (a string keeps its quotes), or `None` when there is none or `json` is no
/// object.
pub fn field<'a>(json: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let mut found = None;
    for_each_member(json, |key, value| {
        if key == name {
            found = Some(value);
            return false;
        }
        true
    });
    found
}

/// Calls `visit(name, raw value)` for each top-level member of the object
/// `json` in order (a string value keeps its quotes), until `visit` returns
/// false or the walk meets what it cannot read: the members before that are
/// visited, as [`field`] finds them. One walk reads every field a query needs.
pub fn for_each_member<'a>(json: &'a [u8], mut visit: impl FnMut(&'a [u8], &'a [u8]) -> bool) {
    let mut i = skip_space(json, 0);
    if json.get(i) != Some(&b'{') {
        return;
    }
    i = skip_space(json, i + 1);
    if json.get(i) == Some(&b'}') {
        return;
    }
    loop {
        if json.get(i) != Some(&b'"') {
            return;
        }
        let key_end = match string_end(json, i) {
            Some(end) => end,
            None => return,
        };
        let key = &json[i + 1..key_end - 1];
        i = skip_space(json, key_end);
        if json.get(i) != Some(&b':') {
            return;
        }
        i = skip_space(json, i + 1);
        let end = match value_end(json, i) {
            Some(end) => end,
            None => return,
        };
        if !visit(key, &json[i..end]) {
            return;
        }
        i = skip_space(json, end);
        if json.get(i) != Some(&b',') {
            return;
        }
        i = skip_space(json, i + 1);
    }
}

/// The member `name` as an integer (`-?[0-9]+` that fits an i64).
pub fn int_field(json: &[u8], name: &[u8]) -> Option<i64> {
    parse_int(field(json, name)?)
}

/// Whether the member `type` is the string `kind` (`"bid"`, `"auction"`, `"person"`).
pub fn is_type(json: &[u8], kind: &[u8]) -> bool {
    match field(json, b"type") {
        Some(text) => is_string(text, kind),
        None => false,
    }
}

/// Whether the raw JSON `text` is the string `value` written without escapes.
pub fn is_string(text: &[u8], value: &[u8]) -> bool {
    text.len() == value.len() + 2 && &text[1..text.len() - 1] == value
}

/// `-?[0-9]+` as an i64; `None` for anything else or on overflow.
pub fn parse_int(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add((d - b'0') as i64)?;
    }
    Some(if negative { -value } else { value })
}

fn skip_space(json: &[u8], mut i: usize) -> usize {
    while i < json.len() && matches!(json[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Index just past the string starting at `start` (a `"`). Eight bytes at a
/// time while none of them is a quote or a backslash (a Nexmark event's
/// `extra` and `url` are long strings with neither).
fn string_end(json: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        while i + 8 <= json.len() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&json[i..i + 8]);
            let word = u64::from_le_bytes(word);
            if has_byte(word, b'"') | has_byte(word, b'\\') != 0 {
                break;
            }
            i += 8;
        }
        match *json.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// Non-zero when one of the eight bytes of `word` is `byte`.
fn has_byte(word: u64, byte: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let x = word ^ (ONES * byte as u64);
    x.wrapping_sub(ONES) & !x & (ONES << 7)
}

/// Index just past the value starting at `start`.
fn value_end(json: &[u8], start: usize) -> Option<usize> {
    match *json.get(start)? {
        b'"' => string_end(json, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = start;
            while i < json.len() {
                match json[i] {
                    b'"' => {
                        i = string_end(json, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let mut i = start;
            while i < json.len() && !matches!(json[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                i += 1;
            }
            if i == start {
                None
            } else {
                Some(i)
            }
        }
    }
}
