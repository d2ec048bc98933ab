// {{name}}: a Weir service in JavaScript. Processors call it through the host
// import call-service("<node id>", method, payload). Method "upper" returns the
// payload upper-cased; any other method is an invalid-input error.
// The contract is wit/plugin.wit (world "service"); sdk/js/README.md has the details.
import { decodeUtf8, encodeUtf8 } from '{{sdk}}/utf8.js';

export function configure(config) {}

export function call(method, payload) {
  if (method !== 'upper') throw { tag: 'invalid-input', val: `{{name}} has no method "${method}"` };
  return encodeUtf8(decodeUtf8(payload).toUpperCase());
}
