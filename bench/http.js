// Outgoing HTTP from plugins (weir:plugin/http): what making a request
// synchronous costs. A local server in its own thread answers 100 bytes; the
// same sequential requests go (a) through fetch awaited on the main thread,
// which is how the host sends a worker-mode plugin's request, and (b) through
// BlockingHttpClient, which an in-thread plugin's request takes (a helper
// thread sends it while the calling thread waits on Atomics.wait).
import { Worker } from 'node:worker_threads';
import { BlockingHttpClient } from '../dist/linker/http/blocking-client.js';
import { sendRequest } from '../dist/linker/http/send-request.js';

const SERVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
const body = 'x'.repeat(100);
const server = createServer((req, res) => res.end(body));
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

const caller = { node: 'bench', plugin: 'bench' };

/** Returns rows `{ id, label, requests, usPerRequest: {median, min, max} }`. */
export async function runHttp({ requests, log }) {
  const server = new Worker(SERVER, { eval: true });
  const port = await new Promise((resolve) => server.once('message', resolve));
  const grant = { hosts: [`127.0.0.1:${port}`], timeoutMs: 5_000, maxResponseBytes: 1 << 20 };
  const request = { method: 'GET', url: `http://127.0.0.1:${port}/`, headers: [], body: new Uint8Array(0) };
  const client = new BlockingHttpClient();
  const ways = [
    { id: 'async', label: 'fetch awaited on the main thread (cpu mode worker: only the plugin\'s worker waits)', send: () => sendRequest(grant, request, caller) },
    { id: 'blocking', label: 'BlockingHttpClient.send (in-thread: the pipeline\'s thread waits)', send: async () => client.send(grant, request, caller) },
  ];
  const rows = [];
  try {
    for (const way of ways) {
      for (let i = 0; i < Math.min(50, requests); i++) await way.send(); // warm-up: connections, JIT
      const times = [];
      for (let i = 0; i < requests; i++) {
        const started = performance.now();
        const response = await way.send();
        times.push((performance.now() - started) * 1000);
        if (response.status !== 200 || response.body.byteLength !== 100) throw new Error(`unexpected response ${response.status}`);
      }
      times.sort((a, b) => a - b);
      const row = { id: way.id, label: way.label, requests, usPerRequest: { median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1) } };
      log(`http ${way.id}: ${row.usPerRequest.median.toFixed(0)} µs/request`);
      rows.push(row);
    }
  } finally {
    client.close();
    await server.terminate();
  }
  return rows;
}
