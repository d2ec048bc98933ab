/**
 * Whether a core-module plugin fits a node: the exports the core-module ABI
 * (`sdk/assemblyscript/ABI.md`) requires of its kind, imports the host offers
 * (linker/core-imports.ts), and capabilities its node grants.
 */
import { CORE_HOST_IMPORTS } from '../linker/core-imports.js';
import { coreImportCapability, denials } from '../linker/capabilities.js';
import { NO_GRANTS } from '../contract/grants.js';
import type { CapabilityGrants } from '../contract/grants.js';
import type { PluginKind } from '../contract/plugin.js';

const AGGREGATOR_EXPORTS = ['weir_accumulate', 'weir_merge', 'weir_emit'];
const REQUIRED_EXPORTS = ['memory', 'weir_abi_version', 'weir_alloc', 'weir_configure', 'weir_process', 'weir_output_ptr', 'weir_output_len'];

/** Problems that keep a core module from filling a node of `kind`; empty when it fits. */
export function checkCoreModuleWorld(module: WebAssembly.Module, kind: PluginKind, grants: CapabilityGrants = NO_GRANTS): string[] {
  if (kind !== 'processor' && kind !== 'aggregator') return ['core modules can fill processor nodes only (plain or windowed); build the plugin as a component (JavaScript or Rust) for a source, sink or service'];
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const required = kind === 'aggregator' ? [...REQUIRED_EXPORTS.filter((e) => e !== 'weir_process'), ...AGGREGATOR_EXPORTS] : REQUIRED_EXPORTS;
  const missing = required.filter((name) => !exported.has(name)).map((name) => `"${name}"`);
  const problems = missing.length === 0 ? [] : [
    `missing export${missing.length > 1 ? 's' : ''} ${missing.join(', ')} required by the core-module ABI for ${kind === 'aggregator' ? 'aggregators' : 'processors'} (sdk/assemblyscript/ABI.md)`,
  ];
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    if (!coreImportCapability(from, name) && !CORE_HOST_IMPORTS.has(`${from}.${name}`)) {
      problems.push(`imports "${from}"."${name}", which the host does not offer (it offers ${[...CORE_HOST_IMPORTS].join(', ')})`);
    }
  }
  return [...problems, ...coreCapabilityProblems(module, grants)];
}

/** The WASI imports of a core module that `grants` does not cover. */
export function coreCapabilityProblems(module: WebAssembly.Module, grants: CapabilityGrants): string[] {
  return denials(WebAssembly.Module.imports(module).map(({ module: from, name }) => [`"${from}"."${name}"`, coreImportCapability(from, name)] as const), grants);
}
