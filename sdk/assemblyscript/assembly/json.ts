// The few JSON helpers plugins need to read config values (AssemblyScript has no JSON in its std lib).

/** The string a JSON string literal denotes (`"a\"b"` -> `a"b`), or null when `json` is not a string literal. */
export function jsonString(json: string): string | null {
  const text = json.trim();
  if (text.length < 2 || text.charCodeAt(0) != 0x22 || text.charCodeAt(text.length - 1) != 0x22) return null;
  let out = "";
  for (let i = 1; i < text.length - 1; i++) {
    const c = text.charCodeAt(i);
    if (c != 0x5c) {
      out += String.fromCharCode(c);
      continue;
    }
    const e = text.charCodeAt(++i);
    if (e == 0x6e) out += "\n";
    else if (e == 0x74) out += "\t";
    else if (e == 0x72) out += "\r";
    else if (e == 0x62) out += "\b";
    else if (e == 0x66) out += "\f";
    else if (e == 0x75) {
      out += String.fromCharCode(i32(parseInt(text.substring(i + 1, i + 5), 16)));
      i += 4;
    } else out += String.fromCharCode(e);
  }
  return out;
}

/** The number a JSON number literal denotes, or NaN. */
export function jsonNumber(json: string): f64 {
  return parseFloat(json.trim());
}

/**
 * The string value of the top-level field `name` of a flat JSON object
 * (`{"level": "error", "n": 1}` -> "error" for "level"), or null when the
 * field is missing or not a string. Nested objects are not looked into.
 */
export function jsonStringField(json: string, name: string): string | null {
  const pattern = "\"" + name + "\"";
  let at = json.indexOf(pattern);
  while (at >= 0) {
    let i = at + pattern.length;
    while (i < json.length && isSpace(json.charCodeAt(i))) i++;
    if (i < json.length && json.charCodeAt(i) == 0x3a) {
      i++;
      while (i < json.length && isSpace(json.charCodeAt(i))) i++;
      if (i >= json.length || json.charCodeAt(i) != 0x22) return null;
      let end = i + 1;
      while (end < json.length && json.charCodeAt(end) != 0x22) end += json.charCodeAt(end) == 0x5c ? 2 : 1;
      return jsonString(json.substring(i, end + 1));
    }
    at = json.indexOf(pattern, at + 1);
  }
  return null;
}

function isSpace(c: i32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}
