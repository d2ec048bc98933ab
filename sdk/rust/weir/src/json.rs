//! The little JSON a plugin needs to read its config, without a JSON crate.
use std::str::Chars;

/// The string value of the top-level field `name` of a flat JSON object
/// (`{"level": "error"}` -> `Some("error")` for `"level"`); `None` when the
/// field is missing or not a string. Nested objects are not looked into.
pub fn json_string_field(json: &str, name: &str) -> Option<String> {
    let rest = field_value(json, name)?;
    parse_string(&mut rest.strip_prefix('"')?.chars())
}

/// The field `name` of a JSON object when it is an object of strings
/// (`{"table": {"alice": "eu"}}` -> `[("alice", "eu")]`), in order.
pub fn json_string_map(json: &str, name: &str) -> Option<Vec<(String, String)>> {
    let rest = field_value(json, name)?;
    let mut chars = rest.strip_prefix('{')?.chars();
    let mut out = Vec::new();
    loop {
        match next_non_space(&mut chars)? {
            '}' => return Some(out),
            ',' => continue,
            '"' => {
                let key = parse_string(&mut chars)?;
                if next_non_space(&mut chars)? != ':' || next_non_space(&mut chars)? != '"' {
                    return None;
                }
                out.push((key, parse_string(&mut chars)?));
            }
            _ => return None,
        }
    }
}

/// The text right after `"name":` (leading spaces skipped).
fn field_value<'a>(json: &'a str, name: &str) -> Option<&'a str> {
    let pattern = format!("\"{}\"", name);
    let mut from = 0;
    while let Some(found) = json[from..].find(&pattern) {
        let after = &json[from + found + pattern.len()..];
        if let Some(value) = after.trim_start().strip_prefix(':') {
            return Some(value.trim_start());
        }
        from += found + 1;
    }
    None
}

fn next_non_space(chars: &mut Chars) -> Option<char> {
    chars.find(|c| !c.is_whitespace())
}

/// Reads a string body up to its closing quote (the opening one already read).
fn parse_string(chars: &mut Chars) -> Option<String> {
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                }
                other => out.push(other),
            },
            other => out.push(other),
        }
    }
    None
}
