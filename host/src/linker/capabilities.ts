/**
 * Capabilities: what a plugin may reach beyond the Weir host interfaces.
 * WASI is denied by default; a node grants capabilities in pipeline.json:
 *
 * ```json
 * "capabilities": { "env": ["TZ", "API_REGION"], "clock": true, "random": true,
 *                   "filesystem": [{ "dir": "lookup", "as": "/lookup", "mode": "ro" }],
 *                   "http": { "hosts": ["api.example.com"] } }
 * ```
 *
 * - `env`: the named environment variables (and only those) through
 *   `wasi:cli/environment` or preview1 `environ_get`;
 * - `clock`: wall and monotonic clocks (`wasi:clocks/*`, `clock_time_get`);
 * - `random`: random bytes (`wasi:random/*`, `random_get`);
 * - `filesystem`: directories, read-only or read-write: preopens for core
 *   modules (WASI preview 1, see PreopenFilesystem), the Weir interface
 *   `weir:plugin/files` for components (see GrantedFiles);
 * - `http`: outgoing HTTP requests to the listed hosts through the Weir
 *   interface `weir:plugin/http` (see ./http/).
 *
 * A plugin that imports a capability its node was not granted is refused at
 * load; the problem names the import and the grant that would allow it.
 * WASI sockets and `wasi:http`, `wasi:filesystem`, stdio and process exit
 * cannot be granted by this version: a plugin importing them is refused with
 * that said plainly, and pointed at the Weir interface where there is one.
 */
import { randomFillSync } from 'node:crypto';
import { WeirError } from '../errors/errors.js';
import { PreopenFilesystem } from './preopen-filesystem.js';
import type { CapabilityGrants } from '../contract/grants.js';
import type { DirectoryUsages, QuotaListener } from './directory-quota.js';


/** A capability an import needs. */
export type Capability = 'env' | 'clock' | 'random' | 'filesystem' | 'http' | 'network' | 'wasi-filesystem' | 'stdio' | 'exit' | 'io';

type Grantable = 'env' | 'clock' | 'random' | 'filesystem' | 'http';

const GRANT_HINT: Readonly<Record<Grantable, string>> = {
  env: 'grant it with "capabilities": {"env": ["NAME", ...]} on the node',
  clock: 'grant it with "capabilities": {"clock": true} on the node',
  random: 'grant it with "capabilities": {"random": true} on the node',
  filesystem: 'grant a directory with "capabilities": {"filesystem": [{"dir": "data", "mode": "ro"}]} on the node ("rw" to write)',
  http: 'grant the hosts it may reach with "capabilities": {"http": {"hosts": ["api.example.com"]}} on the node',
};

const UNGRANTABLE: Readonly<Record<'network' | 'wasi-filesystem' | 'stdio' | 'exit' | 'io', string>> = {
  'wasi-filesystem': 'WASI file access; components reach granted directories through weir:plugin/files',
  network: 'network access; outgoing HTTP goes through weir:plugin/http with an "http" grant',
  stdio: 'standard input/output',
  exit: 'exiting the process',
  io: 'WASI streams',
};

/** The capability a component import (`wasi:clocks/wall-clock`, as jco names it) needs, if any. */
export function componentImportCapability(name: string): Capability | undefined {
  if (name === 'weir:plugin/http') return 'http';
  if (name === 'weir:plugin/files') return 'filesystem';
  if (!name.startsWith('wasi:')) return undefined;
  if (name === 'wasi:cli/environment') return 'env';
  if (name === 'wasi:cli/exit') return 'exit';
  if (name.startsWith('wasi:cli/')) return 'stdio';
  if (name.startsWith('wasi:clocks/')) return 'clock';
  if (name.startsWith('wasi:random/')) return 'random';
  if (name.startsWith('wasi:filesystem/')) return 'wasi-filesystem';
  if (name.startsWith('wasi:io/')) return 'io';
  return 'network';
}

/** The capability a core-module import needs, if it is WASI preview 1. */
export function coreImportCapability(module: string, name: string): Capability | undefined {
  if (module === 'weir' && name === 'http_send') return 'http';
  if (module !== 'wasi_snapshot_preview1' && module !== 'wasi_unstable') return undefined;
  if (name.startsWith('environ_') || name.startsWith('args_')) return 'env';
  if (name.startsWith('clock_')) return 'clock';
  if (name === 'random_get') return 'random';
  if (name === 'proc_exit' || name === 'proc_raise') return 'exit';
  if (name.startsWith('sock_')) return 'network';
  if (name === 'sched_yield' || name === 'poll_oneoff') return 'clock';
  return 'filesystem';
}

/**
 * Why the imports `names` (all needing `capability`) are denied under
 * `grants`, or `undefined` when the capability is granted.
 */
export function denial(names: string | readonly string[], capability: Capability, grants: CapabilityGrants): string | undefined {
  const list = typeof names === 'string' ? [names] : names;
  const imports = `imports ${list.join(', ')}`;
  const need = list.length === 1 ? 'needs' : 'need';
  if (capability === 'env' && grants.env.length > 0) return undefined;
  if (capability === 'clock' && grants.clock) return undefined;
  if (capability === 'random' && grants.random) return undefined;
  if (capability === 'filesystem' && grants.filesystem.length > 0) return undefined;
  if (capability === 'http' && grants.http) return undefined;
  if (capability === 'env' || capability === 'clock' || capability === 'random' || capability === 'http' || capability === 'filesystem') {
    return `${imports}, which ${need} the "${capability}" capability its node was not granted: ${GRANT_HINT[capability]}`;
  }
  return `${imports} (${UNGRANTABLE[capability]}), a capability this host cannot grant: rebuild the plugin without it (JS plugins: leave "wasi" off in plugin.json so WASI is stubbed)`;
}

/** One problem per denied capability, naming every import (`[name, capability]`) that needs it, in import order. */
export function denials(imports: ReadonlyArray<readonly [string, Capability | undefined]>, grants: CapabilityGrants): string[] {
  const byCapability = new Map<Capability, string[]>();
  for (const [name, capability] of imports) {
    if (!capability) continue;
    const names = byCapability.get(capability) ?? [];
    names.push(name);
    byCapability.set(capability, names);
  }
  return [...byCapability].flatMap(([capability, names]) => {
    const denied = denial(names, capability, grants);
    return denied ? [denied] : [];
  });
}

/** The granted environment: only the named variables that are set. */
export function grantedEnvironment(grants: CapabilityGrants, env: NodeJS.ProcessEnv = process.env): Array<[string, string]> {
  return grants.env.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]!] as [string, string]]));
}

/** The most random bytes one call may ask for: the host allocates them before the call's fuel is charged. */
export const MAX_RANDOM_BYTES = 1 << 20;

/**
 * `count` random bytes.
 *
 * @throws WeirError `WEIR_PLUGIN_TRAP` when `count` is above {@link MAX_RANDOM_BYTES} (the guest asked for more than a call may take).
 */
export function randomBytes(count: number | bigint): Uint8Array {
  if (count < 0 || count > MAX_RANDOM_BYTES) {
    throw new WeirError('WEIR_PLUGIN_TRAP', `asked for ${count} random bytes in one call; at most ${MAX_RANDOM_BYTES} may be asked for at once`, { function: 'random', bytes: String(count) });
  }
  return randomFillSync(new Uint8Array(Number(count)));
}

/**
 * jco import objects for the granted WASI interfaces of a component. Only
 * what a grant covers is present; `check` has already refused the rest.
 */
export function wasiComponentImports(grants: CapabilityGrants): Record<string, Record<string, unknown>> {
  const imports: Record<string, Record<string, unknown>> = {};
  if (grants.env.length > 0) {
    const environment = grantedEnvironment(grants);
    imports['wasi:cli/environment'] = {
      getEnvironment: () => environment,
      getArguments: () => [],
      initialCwd: () => undefined,
    };
  }
  if (grants.clock) {
    imports['wasi:clocks/wall-clock'] = {
      now: () => {
        const ns = BigInt(Date.now()) * 1_000_000n;
        return { seconds: ns / 1_000_000_000n, nanoseconds: Number(ns % 1_000_000_000n) };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    };
    imports['wasi:clocks/monotonic-clock'] = {
      now: () => process.hrtime.bigint(),
      resolution: () => 1n,
    };
  }
  if (grants.random) {
    const u64 = () => new DataView(randomBytes(8).buffer).getBigUint64(0);
    imports['wasi:random/random'] = { getRandomBytes: (len: bigint) => randomBytes(len), getRandomU64: u64 };
    imports['wasi:random/insecure'] = { getInsecureRandomBytes: (len: bigint) => randomBytes(len), getInsecureRandomU64: u64 };
    imports['wasi:random/insecure-seed'] = { insecureSeed: () => [u64(), u64()] };
  }
  return imports;
}

/** The WASI preview 1 side of one core-module instance. */
export interface CoreWasi {
  imports: Record<string, (...args: never[]) => number>;
  /** Closes what the plugin left open (files); the instance's `close` calls it. */
  close(): void;
}

/**
 * WASI preview 1 functions for the granted capabilities of a core module
 * (`memory` is read once the instance exists). Errno 0 is success; 8 (badf)
 * and 28 (inval) are the failures the env, clock and random functions can
 * report; files report the errno of what failed (see PreopenFilesystem),
 * their quotas count in `directories` (the thread's), and `quotaExceeded`
 * hears of each write a grant's quota refuses.
 */
export function wasiCoreImports(grants: CapabilityGrants, memory: () => WebAssembly.Memory, directories: DirectoryUsages, quotaExceeded?: QuotaListener): CoreWasi {
  const view = () => new DataView(memory().buffer);
  const files = grants.filesystem.length > 0 ? new PreopenFilesystem(grants.filesystem, memory, quotaExceeded, directories) : undefined;
  const imports: Record<string, (...args: never[]) => number> = { ...files?.imports() };
  if (grants.env.length > 0) {
    const encoder = new TextEncoder();
    const entries = grantedEnvironment(grants).map(([name, value]) => encoder.encode(`${name}=${value}\0`));
    imports.environ_sizes_get = ((countPtr: number, sizePtr: number) => {
      view().setUint32(countPtr, entries.length, true);
      view().setUint32(sizePtr, entries.reduce((n, e) => n + e.byteLength, 0), true);
      return 0;
    }) as never;
    imports.environ_get = ((pointers: number, buffer: number) => {
      const bytes = new Uint8Array(memory().buffer);
      entries.forEach((entry, i) => {
        view().setUint32(pointers + 4 * i, buffer, true);
        bytes.set(entry, buffer);
        buffer += entry.byteLength;
      });
      return 0;
    }) as never;
    imports.args_sizes_get = ((countPtr: number, sizePtr: number) => {
      view().setUint32(countPtr, 0, true);
      view().setUint32(sizePtr, 0, true);
      return 0;
    }) as never;
    imports.args_get = (() => 0) as never;
  }
  if (grants.clock) {
    imports.clock_time_get = ((id: number, _precision: bigint, timePtr: number) => {
      if (id === 0) view().setBigUint64(timePtr, BigInt(Date.now()) * 1_000_000n, true);
      else if (id === 1) view().setBigUint64(timePtr, process.hrtime.bigint(), true);
      else return 28;
      return 0;
    }) as never;
    imports.clock_res_get = ((id: number, resPtr: number) => {
      if (id !== 0 && id !== 1) return 28;
      view().setBigUint64(resPtr, id === 0 ? 1_000_000n : 1n, true);
      return 0;
    }) as never;
  }
  if (grants.random) {
    imports.random_get = ((buffer: number, length: number) => {
      randomFillSync(new Uint8Array(memory().buffer, buffer, length));
      return 0;
    }) as never;
  }
  return { imports, close: () => files?.close() };
}
