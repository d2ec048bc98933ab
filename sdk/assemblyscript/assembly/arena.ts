// The per-call arena. Plugins are built with the stub runtime (a bump
// allocator without a collector): what the module's start function and
// `configure` allocate is kept for the instance's life, and everything a
// later call allocates (the input, the output, the plugin's strings and
// arrays) is freed at once when the next call begins, by moving the heap top
// back to the mark taken after `configure`. No collector runs, ever.
// With another runtime (minimal, incremental) the arena is off and the
// collector frees per-call garbage instead (see `endCall`).
// (Not re-exported by plugins.)

/** asc's runtime ids (shared/runtime.ts): 0 is the stub runtime. */
const RUNTIME_STUB = 0;

/** The stub runtime's block header size (rt/common.ts, BLOCK_OVERHEAD). */
const BLOCK_OVERHEAD: usize = 4;

/** True when per-call memory is an arena (the stub runtime). */
export const ARENA: bool = ASC_RUNTIME == RUNTIME_STUB;

let mark: usize = 0;
let calls: u32 = 0;

/** The current top of the stub runtime's heap (where the next block starts). */
function heapTop(): usize {
  const probe = __alloc(0);
  __free(probe); // the last block: the stub runtime moves its top back
  return probe - BLOCK_OVERHEAD;
}

/** Whether the instance's long-lived memory is sealed (the arena is in use). */
export function sealed(): bool {
  return mark != 0;
}

/** Ends the instance's set-up: what was allocated until now lives as long as the instance. */
export function seal(): void {
  if (ARENA) mark = heapTop();
}

/** Frees everything allocated since `seal` (the previous call's input, output and garbage). */
export function resetArena(): void {
  if (!ARENA || mark == 0) return;
  calls++;
  const top = heapTop();
  if (top == mark) return;
  // One block spanning [mark, top) is the heap's last block: freeing it moves
  // the stub runtime's top back to the mark.
  store<usize>(mark, top - mark - BLOCK_OVERHEAD);
  __free(mark + BLOCK_OVERHEAD);
}

/** How many calls began on a reset arena (each one a new generation of per-call memory). */
export function arenaGeneration(): u32 {
  return calls;
}

/** After a call without an arena: collect its garbage. */
export function endCall(): void {
  if (!ARENA) __collect();
}
