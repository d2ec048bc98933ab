// When the garbage collector runs. Plugins are built with asc's minimal
// runtime (TLSF allocator + a mark-and-sweep collector that runs only when
// asked): everything a plugin keeps in a field or a global stays valid for the
// instance's life, because the collector sees it; what a call left unreachable
// is freed by a later collection.
//
// A collection marks every live object, so running one per call would cost a
// plugin that keeps a large cache a full mark per batch. The SDK collects at
// the end of a call (nothing of the call is on the stack then) only when it is
// due: when the allocator's largest free block has shrunk below half of what
// the last collection left free (the call's garbage used it up), or when the
// call had to grow memory. Memory then stays within a small multiple of what
// the plugin keeps plus what one call allocates, as with a collection per
// call. (Not re-exported by plugins.)
import { ROOT } from "rt/tlsf";

/** Below this, a heap is small enough to collect at the end of every call. */
const MIN_RESERVE: usize = 64 * 1024;

/** TLSF's first level covers blocks of [2^(fl + 7), 2^(fl + 8)) bytes; level 0 is below 256 bytes (rt/tlsf.ts). */
const FL_SHIFT: usize = 7;

let reserve: usize = 0;
let pages: i32 = 0;
let collections: u32 = 0;

/** A lower bound of the allocator's largest free block (its first-level bitmap, rt/tlsf.ts). */
function largestFree(): usize {
  if (changetype<usize>(ROOT) == 0) return 0;
  const flMap = load<u32>(changetype<usize>(ROOT));
  if (flMap <= 1) return 0;
  return <usize>1 << (<usize>(31 - clz(flMap)) + FL_SHIFT);
}

/** Ends a call: collects its garbage if a collection is due (see above). */
export function endCall(): void {
  const grew = memory.size() != pages;
  if (grew || largestFree() < reserve || reserve == 0) {
    __collect();
    collections++;
    reserve = max(MIN_RESERVE, largestFree() >> 1);
  }
  pages = memory.size();
}

/** How many collections ran so far (for tests). */
export function collectionCount(): u32 {
  return collections;
}
