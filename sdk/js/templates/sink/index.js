// {{name}}: a Weir sink in JavaScript. It counts the records it is given (metric
// "written") and logs each value; replace `write` to deliver records somewhere.
// The contract is wit/plugin.wit (world "sink"); sdk/js/README.md has the details.
import { log } from 'weir:plugin/log@0.1.0';
import { counterAdd } from 'weir:plugin/metrics@0.1.0';
import { decodeUtf8 } from '{{sdk}}/utf8.js';

export function open(config) {}

export function write(batch) {
  for (const record of batch) log('info', `{{name}} got ${decodeUtf8(record.value)}`);
  counterAdd('written', batch.length);
}

export function flush() {}
