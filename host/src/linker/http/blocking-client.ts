/**
 * Synchronous HTTP for plugins that run on the calling thread. A plugin's
 * `http.send` is a synchronous import, so the thread that runs the plugin
 * has to wait for the answer: the request goes to a worker thread that
 * sends it, and this thread blocks on `Atomics.wait` until the worker posts
 * the outcome (taken with `receiveMessageOnPort`). Everything else on this
 * thread waits too, so a node that makes slow requests is better run in cpu
 * mode `worker`, where only its own worker waits (see WorkerProcessor).
 *
 * Lifecycle: the worker starts on the first request; `close()` stops it. A
 * worker that does not answer within the request's timeout plus a margin is
 * terminated and the request fails as transient; the next request starts a
 * new one.
 */
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WeirError } from '../../errors/errors.js';
import { fromWireError } from '../../errors/wire.js';
import type { WireError } from '../../errors/wire.js';
import type { HttpGrant } from '../../contract/http-grant.js';
import { checkRequest } from './send-request.js';
import type { HttpCaller, HttpRequest, HttpResponse } from './send-request.js';

/** What the worker is asked to do. */
export interface HttpExchange {
  grant: HttpGrant;
  request: HttpRequest;
  caller: HttpCaller;
}

/** What the worker answers. */
export type HttpOutcome = { ok: true; response: HttpResponse } | { ok: false; error: WireError };

/** Sends a request and waits for its response on the calling thread. */
export interface SyncHttpSender {
  send(grant: HttpGrant | undefined, request: HttpRequest, caller: HttpCaller): HttpResponse;
}

/** Time the worker gets beyond the request's own timeout before it is given up on. */
const MARGIN_MS = 2_000;

/** A {@link SyncHttpSender} backed by one worker thread. */
export class BlockingHttpClient implements SyncHttpSender {
  #worker: { thread: Worker; replies: MessagePort; signal: Int32Array } | undefined;
  #closed = false;

  send(grant: HttpGrant | undefined, request: HttpRequest, caller: HttpCaller): HttpResponse {
    checkRequest(grant, request, caller);
    if (this.#closed) throw new WeirError('WEIR_HTTP_FAILED', 'the HTTP client is closed (the run is shutting down)', { ...caller, kind: 'transient' });
    const worker = this.#start();
    Atomics.store(worker.signal, 0, 0);
    worker.thread.postMessage({ grant: grant!, request, caller } satisfies HttpExchange);
    const waited = Atomics.wait(worker.signal, 0, 0, grant!.timeoutMs + MARGIN_MS);
    const outcome = receiveMessageOnPort(worker.replies)?.message as HttpOutcome | undefined;
    if (waited === 'timed-out' || !outcome) {
      this.#stop();
      throw new WeirError('WEIR_HTTP_FAILED', `${request.method} ${request.url}: no answer within ${grant!.timeoutMs} ms`, { ...caller, kind: 'transient' });
    }
    if (!outcome.ok) throw fromWireError(outcome.error);
    return outcome.response;
  }

  close(): void {
    this.#closed = true;
    this.#stop();
  }

  #start() {
    if (this.#worker) return this.#worker;
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    const thread = new Worker(workerEntry(), { workerData: { replies: port2, signal }, transferList: [port2] });
    // Never keeps the process alive by itself; close() is still how it ends.
    thread.unref();
    // A helper that crashes is dropped (an unhandled 'error' would end the process); the next request starts another.
    thread.once('error', () => {
      if (this.#worker?.thread === thread) this.#stop();
    });
    this.#worker = { thread, replies: port1, signal: new Int32Array(signal) };
    return this.#worker;
  }

  #stop(): void {
    if (!this.#worker) return;
    this.#worker.replies.close();
    void this.#worker.thread.terminate();
    this.#worker = undefined;
  }
}

/** The worker's module: compiled (dist/), also when the host runs from TypeScript sources (vitest). */
function workerEntry(): URL {
  const here = new URL('./http-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL('../../../../dist/linker/http/http-worker.js', import.meta.url);
}
