/**
 * Runs in the worker thread of a {@link BlockingHttpClient}: sends each
 * request it is given, posts the outcome on the reply port, then wakes the
 * thread that waits for it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { toWireError } from '../../errors/wire.js';
import { sendRequest } from './send-request.js';
import type { HttpExchange, HttpOutcome } from './blocking-client.js';

const { replies, signal: shared } = workerData as { replies: MessagePort; signal: SharedArrayBuffer };
const signal = new Int32Array(shared);

parentPort!.on('message', async ({ grant, request, caller }: HttpExchange) => {
  let outcome: HttpOutcome;
  try {
    outcome = { ok: true, response: await sendRequest(grant, request, caller) };
  } catch (error) {
    outcome = { ok: false, error: toWireError(error, { code: 'WEIR_HTTP_FAILED', details: { ...caller, kind: 'transient' } }) };
  }
  replies.postMessage(outcome);
  Atomics.store(signal, 0, 1);
  Atomics.notify(signal, 0);
});
