// TEMPORARY STUB (owned by the AssemblyScript helper, who replaces this whole file).
import type { HostContext } from '../linker/host-context.js';
import type { PluginKind, ProcessorInstance } from '../sandbox/plugin.js';
export function checkCoreModuleWorld(_module: WebAssembly.Module, _kind: PluginKind): string[] { return []; }
export async function instantiateCoreProcessor(_module: WebAssembly.Module, _host: HostContext): Promise<ProcessorInstance> { throw new Error('stub'); }
