// Example (file grant, JavaScript): loads a table of "name region" lines from a
// directory the node grants, once in configure, and adds each record's region
// as a header `region` ("unknown" when the table has no entry or the record no
// key). Config: {"table": "<path as the plugin sees it>"} (default
// "/reference/regions.txt"). A missing table fails configure with its errno.
// Twins: region-table-as, region-table-rust (same output, byte for byte).
import { readFile } from 'weir:plugin/files@0.1.0';
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

const UNKNOWN = encodeUtf8('unknown');
let regions = new Map();

export function configure(config) {
  const path = JSON.parse(config).table ?? '/reference/regions.txt';
  let text;
  try {
    text = decodeUtf8(readFile(path));
  } catch (error) {
    throw { tag: 'fatal', val: `cannot read the region table: ${error.payload.message} (errno ${error.payload.errno})` };
  }
  regions = new Map();
  for (const line of text.split('\n')) {
    const [name, region] = line.trim().split(/\s+/);
    if (name && region) regions.set(name, encodeUtf8(region));
  }
}

export function processBatch(batch, out) {
  while (batch.next()) {
    const key = batch.keyText();
    out.pass(batch);
    out.addHeader('region', (key === undefined ? undefined : regions.get(key)) ?? UNKNOWN);
  }
}
