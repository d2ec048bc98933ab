/**
 * Outgoing HTTP grants (`capabilities.http`): the same fixture in three
 * languages (JS component, AssemblyScript core module, Rust component) sends
 * requests to a local server through `weir:plugin/http` / `weir.http_send`.
 * Granted hosts are reached (redirects too, when they stay on granted hosts);
 * a host outside the grant, a redirect leading out, a timeout and a body over
 * `maxResponseBytes` fail the record with the right kind, and the accounting
 * adds up. Without the grant the plugin is refused at load. A granted host
 * name that resolves to a loopback address (`localhost`) is refused unless
 * the grant says `denyPrivateAddresses: false`; a granted IP address is
 * not. Runs through `host run`'s path, in both CPU modes: in `fuel` the
 * request blocks the calling thread (BlockingHttpClient), in `worker` the
 * main thread sends it. Every case starts its own server, so what one case's
 * server saw is that case's alone.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostAllowed, hostPatternProblem } from '../../src/contract/http-grant.js';
import { BlockingHttpClient } from '../../src/linker/http/blocking-client.js';
import { runPlugin } from '../../src/testing/plugin-harness.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { runValues } from '../fixtures/run-values.js';

const PLUGINS = ['http-get-js', 'http-get-as', 'http-get-rust'] as const;

let fixtures: string;
let cacheDir: string;

/**
 * The test server runs in its own thread: in cpu mode fuel a request blocks
 * the thread that runs the plugin, which here is also the test's.
 */
const SERVER = `
const { createServer } = require('node:http');
const { parentPort } = require('node:worker_threads');
let port;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const path = req.url;
    parentPort.postMessage(req.method + ' ' + path);
    if (path === '/redirect') return void res.writeHead(302, { location: '/echo/redirected' }).end();
    if (path === '/redirect-out') return void res.writeHead(302, { location: 'http://localhost:' + port + '/echo/out' }).end();
    if (path === '/slow') return; // never answers: the client's time limit ends it
    if (path === '/big') return void res.end('b'.repeat(5000));
    if (path === '/missing') return void res.writeHead(404).end('nope');
    if (path === '/to-self') return void res.writeHead(302, { location: '/headers' }).end();
    if (path === '/to-localhost') return void res.writeHead(302, { location: 'http://localhost:' + port + '/headers' }).end();
    if (path === '/to-ftp') return void res.writeHead(302, { location: 'ftp://127.0.0.1/x' }).end();
    if (path === '/headers') return void res.end('auth=' + req.headers.authorization + ' keep=' + req.headers['x-keep']);
    res.end(req.method + ' ' + path + ' x-weir=' + req.headers['x-weir'] + ' body=' + Buffer.concat(chunks).toString());
  });
});
server.listen(0, '127.0.0.1', () => {
  port = server.address().port;
  parentPort.postMessage({ port });
});
`;

beforeAll(async () => {
  fixtures = await buildFixtures(...PLUGINS);
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

/** One case's test server. */
interface TestServer extends AsyncDisposable {
  port: number;
  /** Requests it saw, as "METHOD path", in order. */
  seen: string[];
}

async function startServer(): Promise<TestServer> {
  const thread = new Worker(SERVER, { eval: true });
  const seen: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    thread.on('message', (message: string | { port: number }) => {
      if (typeof message === 'string') seen.push(message);
      else resolve(message.port);
    });
    thread.once('error', reject);
  });
  return { port, seen, [Symbol.asyncDispose]: async () => void (await thread.terminate()) };
}

interface Line {
  value: string;
  headers?: Record<string, string>;
}

async function runPipeline(port: number, plugin: string, values: string[], node: object) {
  const dir = await mkdtemp(join(tmpdir(), 'weir-http-'));
  const { problems, summary } = await runValues(dir, values, {
    name: 'http',
    plugins: { dir: fixtures },
    nodes: [
      { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 1 } },
      { id: 'fetch', kind: 'processor', plugin: `${plugin}.wasm`, inputs: ['in'], config: { base: `http://127.0.0.1:${port}` }, onError: { policy: 'dead-letter', deadLetter: 'dead' }, ...node },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['fetch'], config: { path: 'out.jsonl' } },
      { id: 'dead', kind: 'sink', connector: 'file', config: { path: 'dead.jsonl' } },
    ],
  }, cacheDir);
  if (!summary) return { problems, out: [], dead: [], stats: undefined };
  expect(summary.status).toBe('completed');
  const lines = async (name: string): Promise<Line[]> => {
    const text = (await readFile(join(dir, name), 'utf8')).trim();
    return text === '' ? [] : text.split('\n').map((line) => JSON.parse(line) as Line);
  };
  return { problems: [], out: await lines('out.jsonl'), dead: await lines('dead.jsonl'), stats: summary.nodes.find((n) => n.id === 'fetch')! };
}

describe.each(PLUGINS)('http grants: %s', (plugin) => {
  it.each(['fuel', 'worker'] as const)('reaches granted hosts only, with limits (cpu mode %s)', async (mode) => {
    await using server = await startServer();
    const { port, seen } = server;
    const grant = { http: { hosts: [`127.0.0.1:${port}`], timeoutMs: 500, maxResponseBytes: 1_000 } };
    const values = ['/echo/a', '/redirect', '/missing', '/redirect-out', '/slow', '/big', '/echo/b'];
    const { problems, out, dead, stats } = await runPipeline(port, plugin, values, { capabilities: grant, limits: { cpu: { mode } } });
    expect(problems).toEqual([]);
    expect(out.map((l) => [l.value, l.headers?.status])).toEqual([
      ['GET /echo/a x-weir=fixture body=', '200'],
      ['GET /echo/redirected x-weir=fixture body=', '200'],
      ['nope', '404'],
      ['GET /echo/b x-weir=fixture body=', '200'],
    ]);
    const failures = dead.map((l) => [l.value, l.headers?.['weir-error-message']] as const);
    expect(failures.map(([value]) => value)).toEqual(['/redirect-out', '/slow', '/big']);
    expect(failures[0]![1]).toMatch(new RegExp(`may not reach localhost:${port} \\(a redirect target\\)`));
    expect(failures[1]![1]).toMatch(/did not finish within 500 ms/);
    expect(failures[2]![1]).toMatch(/larger than 1000 bytes/);
    // The redirect out of the grant was never followed: once the last request's message is in, every earlier one is (messages keep their order).
    await vi.waitFor(() => expect(seen).toContain('GET /echo/b'));
    expect(seen).toContain('GET /redirect-out');
    expect(seen).not.toContain('GET /echo/out');
    expect(stats).toMatchObject({ in: 7, out: 4, errors: 3 });
  });

  it('POSTs the record as the body', async () => {
    await using server = await startServer();
    const { port } = server;
    const { output } = await runPlugin({
      plugin: join(fixtures, `${plugin}.wasm`),
      kind: 'processor',
      cacheDir,
      config: { base: `http://127.0.0.1:${port}/post`, method: 'POST' },
      capabilities: { env: [], clock: false, random: false, filesystem: [], http: { hosts: ['127.0.0.1'], timeoutMs: 2_000, maxResponseBytes: 1_000 } },
      input: [{ key: undefined, value: new TextEncoder().encode('héllo'), headers: [], eventTime: undefined }],
    });
    expect(new TextDecoder().decode(output[0]!.value)).toBe('POST /post x-weir=fixture body=héllo');
  });

  it('is refused at load on a node without the grant', async () => {
    const { problems } = await runPipeline(1, plugin, ['/echo/a'], {});
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^\/nodes\/1\/plugin .*imports "weir(:plugin\/http|"\."http_send)".*"http" capability.*"capabilities": \{"http": \{"hosts"/);
  });
});

describe('http limits and redirects', () => {
  it('in cpu mode worker, a request gets what is left of the call\'s timeoutMs and fails as transient instead of the call being killed', async () => {
    await using server = await startServer();
    const grant = { http: { hosts: [`127.0.0.1:${server.port}`] } };
    const { problems, out, dead, stats } = await runPipeline(server.port, 'http-get-as', ['/slow', '/echo/after'], { capabilities: grant, limits: { timeoutMs: 2_000, cpu: { mode: 'worker' } } });
    expect(problems).toEqual([]);
    expect(out.map((l) => l.value)).toEqual(['GET /echo/after x-weir=fixture body=']);
    expect(dead.map((l) => l.headers?.['weir-error-code'])).toEqual(['WEIR_PLUGIN_ERROR']);
    // How much was left depends on how long the call took to get there: only the reason is fixed.
    expect(dead[0]!.headers?.['weir-error-message']).toMatch(/did not finish within \d+ ms \(what was left of the call's limits.timeoutMs \(2000 ms\)\)/);
    expect(stats).toMatchObject({ restarts: 0 });
  });

  it('credentials stay with their origin across redirects; other schemes are not followed', async () => {
    await using server = await startServer();
    const client = new BlockingHttpClient();
    const caller = { node: 'n', plugin: 'p' };
    // localhost is a loopback name: reached here because the grant allows private addresses.
    const grant = { hosts: ['127.0.0.1', 'localhost'], timeoutMs: 2_000, maxResponseBytes: 1_000, denyPrivateAddresses: false };
    const get = (path: string) => client.send(grant, { method: 'GET', url: `http://127.0.0.1:${server.port}${path}`, headers: [['Authorization', 'Bearer s3cret'], ['x-keep', '1']], body: new Uint8Array() }, caller);
    try {
      expect(new TextDecoder().decode(get('/to-self').body)).toBe('auth=Bearer s3cret keep=1');
      expect(new TextDecoder().decode(get('/to-localhost').body)).toBe('auth=undefined keep=1');
      expect(() => get('/to-ftp')).toThrow(expect.objectContaining({ code: 'WEIR_HTTP_FAILED', message: expect.stringContaining('only http and https are followed'), details: expect.objectContaining({ kind: 'invalid-input' }) }));
    } finally {
      client.close();
    }
  });
});

describe('http grant checks', () => {
  it('host inspect says which kinds a plugin fits once granted, and what it needs', () => {
    const inspect = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/host.js'), 'inspect', join(fixtures, 'http-get-as.wasm'), '--cache-dir', cacheDir], { encoding: 'utf8' });
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toContain('fits:    processor (once granted, see needs)\n');
    expect(inspect.stdout).toContain('needs:   imports "weir"."http_send", which needs the "http" capability');
    // Reasons other than grants still rule kinds out, without repeating the grant.
    expect(inspect.stdout).toMatch(/not an aggregator: missing exports "weir_accumulate", "weir_merge", "weir_emit" required by the core-module ABI for aggregators \(sdk\/assemblyscript\/ABI.md\)\n/);
  });

  it('matches host patterns by name, subdomain and port', () => {
    const grant = { hosts: ['api.example.com', '*.internal.example:8443', '127.0.0.1:8080', '[::1]'], timeoutMs: 1, maxResponseBytes: 1 };
    const allowed = (url: string) => hostAllowed(grant, new URL(url));
    expect(allowed('https://api.example.com/v1')).toBe(true);
    expect(allowed('http://API.example.com:9000/')).toBe(true);
    expect(allowed('https://evil.api.example.com/')).toBe(false);
    expect(allowed('https://api.example.com.evil.net/')).toBe(false);
    expect(allowed('https://a.b.internal.example:8443/')).toBe(true);
    expect(allowed('https://internal.example:8443/')).toBe(false);
    expect(allowed('https://x.internal.example/')).toBe(false);
    expect(allowed('http://127.0.0.1:8080/')).toBe(true);
    expect(allowed('http://127.0.0.1/')).toBe(false);
    expect(allowed('http://[::1]:5000/')).toBe(true);
    expect(hostPatternProblem('https://api.example.com')).toMatch(/without a scheme or path/);
    expect(hostPatternProblem('api.example.com/v1')).toMatch(/not a host pattern/);
    expect(hostPatternProblem('api.example.com:99999')).toMatch(/port outside/);
    expect(hostPatternProblem('*.example.com:443')).toBeUndefined();
    // Patterns that could never match a URL's (canonical) host are refused, with the form to write.
    expect(hostPatternProblem('[0:0:0:0:0:0:0:1]')).toMatch(/URLs name this host \[::1\]/);
    expect(hostPatternProblem('127.1')).toMatch(/URLs name this host 127\.0\.0\.1/);
    expect(hostPatternProblem('*.10.0.0.1')).toMatch(/not an IP address/);
    expect(hostPatternProblem('API.Example.com')).toBeUndefined();
  });

  it('reports malformed host patterns at their pointer', async () => {
    const { problems } = await runPipeline(1, 'http-get-js', ['/echo/a'], { capabilities: { http: { hosts: ['127.0.0.1', 'http://bad/'] } } });
    expect(problems).toEqual([expect.stringMatching(/^\/nodes\/1\/capabilities\/http\/hosts\/1 "http:\/\/bad\/" is not a host pattern/)]);
  });

  it('the blocking client fails a request over its timeout as transient, refuses bad requests as invalid-input, and keeps serving', async () => {
    await using server = await startServer();
    const { port } = server;
    const client = new BlockingHttpClient();
    const caller = { node: 'n', plugin: 'p' };
    const grant = { hosts: ['127.0.0.1'], timeoutMs: 200, maxResponseBytes: 100 };
    try {
      expect(() => client.send(grant, { method: 'GET', url: `http://127.0.0.1:${port}/slow`, headers: [], body: new Uint8Array() }, caller))
        .toThrow(expect.objectContaining({ code: 'WEIR_HTTP_FAILED', details: expect.objectContaining({ kind: 'transient' }) }));
      expect(() => client.send(grant, { method: 'GET', url: 'http://example.com/', headers: [], body: new Uint8Array() }, caller))
        .toThrow(expect.objectContaining({ code: 'WEIR_HTTP_DENIED' }));
      // What fetch refuses is the plugin's mistake: invalid-input, not worth a retry.
      expect(() => client.send(grant, { method: 'GET', url: `http://127.0.0.1:${port}/echo/x`, headers: [['bad header', 'x']], body: new Uint8Array() }, caller))
        .toThrow(expect.objectContaining({ code: 'WEIR_HTTP_FAILED', details: expect.objectContaining({ kind: 'invalid-input' }) }));
      expect(() => client.send(grant, { method: 'GET', url: `http://127.0.0.1:${port}/echo/x`, headers: [], body: new Uint8Array([1]) }, caller))
        .toThrow(expect.objectContaining({ code: 'WEIR_HTTP_FAILED', details: expect.objectContaining({ kind: 'invalid-input' }) }));
      // After those failures a good request still goes through.
      expect(client.send(grant, { method: 'GET', url: `http://127.0.0.1:${port}/echo/ok`, headers: [], body: new Uint8Array() }, caller).status).toBe(200);
    } finally {
      client.close();
    }
  });
});

describe('private addresses behind granted host names', () => {
  const caller = { node: 'n', plugin: 'p' };
  const get = (client: BlockingHttpClient, grant: { hosts: string[]; denyPrivateAddresses?: boolean }, url: string) =>
    client.send({ timeoutMs: 2_000, maxResponseBytes: 1_000, ...grant }, { method: 'GET', url, headers: [], body: new Uint8Array() }, caller);

  it('a name that resolves to loopback is refused by default, before anything is sent, and reached with denyPrivateAddresses: false', async () => {
    await using server = await startServer();
    const client = new BlockingHttpClient();
    try {
      expect(() => get(client, { hosts: ['localhost'] }, `http://localhost:${server.port}/echo/denied`)).toThrow(expect.objectContaining({
        code: 'WEIR_HTTP_DENIED',
        message: expect.stringMatching(/may not reach localhost:\d+: localhost resolves to (127\.0\.0\.1|::1), a loopback.*"denyPrivateAddresses": false/),
        details: expect.objectContaining({ kind: 'invalid-input' }),
      }));
      expect(get(client, { hosts: ['localhost'], denyPrivateAddresses: false }, `http://localhost:${server.port}/echo/allowed`).status).toBe(200);
      // An address granted as such stays reachable: the user named it.
      expect(get(client, { hosts: ['127.0.0.1'] }, `http://127.0.0.1:${server.port}/echo/literal`).status).toBe(200);
      await vi.waitFor(() => expect(server.seen).toContain('GET /echo/literal'));
      expect(server.seen).toEqual(['GET /echo/allowed', 'GET /echo/literal']);
    } finally {
      client.close();
    }
  });

  it('a redirect to such a name is refused too', async () => {
    await using server = await startServer();
    const client = new BlockingHttpClient();
    try {
      expect(() => get(client, { hosts: ['127.0.0.1', 'localhost'] }, `http://127.0.0.1:${server.port}/to-localhost`))
        .toThrow(expect.objectContaining({ code: 'WEIR_HTTP_DENIED', message: expect.stringContaining('localhost resolves to') }));
      expect(get(client, { hosts: ['127.0.0.1', 'localhost'], denyPrivateAddresses: false }, `http://127.0.0.1:${server.port}/to-localhost`).status).toBe(200);
      await vi.waitFor(() => expect(server.seen).toHaveLength(3));
      expect(server.seen).toEqual(['GET /to-localhost', 'GET /to-localhost', 'GET /headers']);
    } finally {
      client.close();
    }
  });

  it.each(['fuel', 'worker'] as const)('holds for a node granted "localhost" in pipeline.json (cpu mode %s)', async (mode) => {
    await using server = await startServer();
    const base = { config: { base: `http://localhost:${server.port}` }, limits: { cpu: { mode } } };
    const denied = await runPipeline(server.port, 'http-get-as', ['/echo/a'], { ...base, capabilities: { http: { hosts: [`localhost:${server.port}`] } } });
    expect(denied.out).toEqual([]);
    expect(denied.dead.map((l) => l.headers?.['weir-error-message'])).toEqual([expect.stringMatching(/may not reach localhost:\d+: localhost resolves to/)]);
    const allowed = await runPipeline(server.port, 'http-get-as', ['/echo/a'], { ...base, capabilities: { http: { hosts: [`localhost:${server.port}`], denyPrivateAddresses: false } } });
    expect(allowed.out.map((l) => l.value)).toEqual(['GET /echo/a x-weir=fixture body=']);
    expect(server.seen).toEqual(['GET /echo/a']);
  });
});
