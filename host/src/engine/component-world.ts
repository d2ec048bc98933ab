/**
 * Whether a component fits a node: the exports its kind's world requires
 * (and, for a processor exporting `process-packed`, that export's type:
 * components of `processor` and of `packed-processor` both fit), imports the host offers (linker/component-imports.ts), and capabilities its
 * node grants.
 */
import { REQUIRED_EXPORTS } from '../contract/plugin.js';
import type { PluginKind } from '../contract/plugin.js';
import { HOST_INTERFACES } from '../linker/component-imports.js';
import { componentImportCapability, denials } from '../linker/capabilities.js';
import { NO_GRANTS } from '../contract/grants.js';
import type { CapabilityGrants } from '../contract/grants.js';
import type { TranspiledComponent } from './transpile-cache.js';
import { PACKED_EXPORT_TYPE, TYPED_EXPORTS, isPackedExportType } from './export-types.js';

/**
 * Problems that keep a component from filling a node of `kind`: missing
 * exports, imports the host does not offer, capabilities not granted.
 */
export function checkComponentWorld(component: Pick<TranspiledComponent, 'imports' | 'exports' | 'exportTypes'>, kind: PluginKind, grants: CapabilityGrants = NO_GRANTS): string[] {
  const problems: string[] = [];
  const missing = REQUIRED_EXPORTS[kind].filter((name) => !component.exports.includes(name));
  if (missing.length > 0) {
    const names = missing.map((name) => `"${name}"`).join(', ');
    problems.push(`missing export${missing.length > 1 ? 's' : ''} ${names} required by the weir:plugin/${kind} world (it exports: ${component.exports.join(', ') || 'nothing'})`);
  }
  // Optional, but called whenever present: it must have the type of the packed-processor world.
  const packedType = component.exportTypes['process-packed'];
  if (kind === 'processor' && component.exports.includes(TYPED_EXPORTS['process-packed']!) && !isPackedExportType(packedType)) {
    problems.push(`exports "process-packed" as ${packedType ?? 'an unknown type'}, where the weir:plugin/packed-processor world has ${PACKED_EXPORT_TYPE}`);
  }
  for (const name of component.imports) {
    if ((HOST_INTERFACES as readonly string[]).includes(name) || componentImportCapability(name)) continue;
    problems.push(`imports "${name}", which the host does not offer (it offers ${HOST_INTERFACES.filter((i) => !i.endsWith('/types')).join(', ')})`);
  }
  return [...problems, ...componentCapabilityProblems(component, grants)];
}

/** The WASI imports of a component that `grants` does not cover. */
export function componentCapabilityProblems(component: Pick<TranspiledComponent, 'imports'>, grants: CapabilityGrants): string[] {
  return denials(component.imports.map((name) => [`"${name}"`, componentImportCapability(name)] as const), grants);
}

