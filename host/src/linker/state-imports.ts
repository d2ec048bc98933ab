/**
 * Whether a plugin can use keyed state, from its imports (`PluginModule.imports`):
 * a component that imports the `weir:plugin/state` interface, or a core
 * module that imports one of the `weir.state_*` functions. A plugin that
 * cannot touch keyed state needs no turns among its node's lanes.
 */

/** True when `imports` (component interfaces, or a core module's `module.name`) include keyed state. */
export function importsKeyedState(imports: readonly string[]): boolean {
  return imports.some((name) => /^weir:plugin\/state(@|$)/u.test(name) || name.startsWith('weir.state_'));
}
