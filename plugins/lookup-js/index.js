// Example (service call, JavaScript): asks a lookup service for each record's
// key and adds the answer as a header `region` ("unknown" when the service has
// no entry or the record no key). Config: {"service": "<service node id>"}
// (default "regions"); the service's method is "get".
// Twins: lookup-as, lookup-rust (same output, byte for byte).
import { callService } from 'weir:plugin/services@0.1.0';
import { encodeUtf8 } from '../../sdk/js/src/utf8.js';

let service = 'regions';
const UNKNOWN = encodeUtf8('unknown');

export function configure(config) {
  const parsed = JSON.parse(config);
  if (parsed.service !== undefined) service = parsed.service;
}

function regionOf(key) {
  if (key === undefined || key === null) return UNKNOWN;
  try {
    return callService(service, 'get', key);
  } catch {
    return UNKNOWN;
  }
}

export function processBatch(batch, out) {
  while (batch.next()) {
    const region = regionOf(batch.key);
    out.pass(batch);
    out.addHeader('region', region);
  }
}
