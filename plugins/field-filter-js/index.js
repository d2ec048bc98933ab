// Example (field filter, JavaScript): keeps the records whose value is a JSON
// object with the string field config.field equal to config.equals, e.g.
// {"field": "level", "equals": "error"}; every other record is dropped.
// Twins: field-filter-as, field-filter-rust (same output, byte for byte).
// `processBatch` reads the packed batch in place and passes the kept records on
// whole (sdk/js/README.md, "Packed batches").

let field = '';
let equals = '';

export function configure(config) {
  const parsed = JSON.parse(config);
  if (typeof parsed.field !== 'string' || typeof parsed.equals !== 'string') {
    throw { tag: 'invalid-input', val: 'config needs "field" and "equals", both strings' };
  }
  field = parsed.field;
  equals = parsed.equals;
}

function fieldOf(text) {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value[field] : undefined;
  } catch {
    return undefined;
  }
}

export function processBatch(batch, out) {
  while (batch.next()) if (fieldOf(batch.valueText()) === equals) out.pass(batch);
}
