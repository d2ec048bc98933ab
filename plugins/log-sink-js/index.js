// Example (a sink as a plugin, JavaScript): logs every record through the
// host's logger ("<key>: <value>" at info) and counts them in the metric
// "written". Config: {"prefix": "..."} (optional) starts each line.
import { log } from 'weir:plugin/log@0.1.0';
import { counterAdd } from 'weir:plugin/metrics@0.1.0';
import { decodeUtf8 } from '../../sdk/js/src/utf8.js';

let prefix = '';

export function open(config) {
  prefix = JSON.parse(config).prefix ?? '';
}

export function write(batch) {
  for (const record of batch) log('info', `${prefix}${record.key ? decodeUtf8(record.key) : '-'}: ${decodeUtf8(record.value)}`);
  counterAdd('written', batch.length);
}

export function flush() {}
