// {{name}}: a Weir processor in JavaScript, built into a component with componentize-qjs.
// It upper-cases each record's value; replace `processBatch` with your own work.
// The contract is wit/plugin.wit (world "packed-processor"); sdk/js/README.md has the details.
//
// `processBatch` reads the batch in place (`batch.next()`, then `batch.value`,
// `batch.valueText()`, `batch.key`, `batch.headers`, ...) and writes the records to
// pass on into `out` (`out.pass(batch)`, `out.passWithText(batch, text)`,
// `out.write(key, value, eventTime)`, `out.addHeader(name, value)`): no object per
// record, several times faster than `process(records)` in QuickJS. A plugin may
// export `process(records)` (records as objects) instead.
import { log } from 'weir:plugin/log@0.1.0';

export function configure(config) {
  // `config` is the node's "config" object from pipeline.json, as JSON text.
  JSON.parse(config);
  log('info', '{{name}} configured');
}

export function processBatch(batch, out) {
  while (batch.next()) out.passWithText(batch, batch.valueText().toUpperCase());
}
