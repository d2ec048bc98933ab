// {{name}}: a Weir processor in JavaScript, built into a component with componentize-qjs.
// It upper-cases each record's value; replace `process` with your own work.
// The contract is wit/plugin.wit (world "processor"); sdk/js/README.md has the details.
import { log } from 'weir:plugin/log@0.1.0';
import { decodeUtf8, encodeUtf8 } from '{{sdk}}/utf8.js';

export function configure(config) {
  // `config` is the node's "config" object from pipeline.json, as JSON text.
  JSON.parse(config);
  log('info', '{{name}} configured');
}

export function process(batch) {
  return batch.map((record) => ({ ...record, value: encodeUtf8(decodeUtf8(record.value).toUpperCase()) }));
}
