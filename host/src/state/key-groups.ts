/**
 * Key groups: a fixed split of the key space that every stored key carries,
 * so a checkpoint's keyed state can later be redistributed over a different
 * number of instances by moving whole groups rather than rehashing each key.
 * The hash is the one the key partitioner uses (`keyLane` in
 * topology/partitioner.ts): FNV-1a, 32 bits.
 */

/** How many key groups there are; fixed, since stored checkpoints record them. */
export const KEY_GROUPS = 128;

/** FNV-1a (32-bit) of `key`'s bytes, as an unsigned integer. */
export function fnv1a32(key: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key[i]!, 0x01000193);
  return hash >>> 0;
}

/** The key group of `key`, in `[0, KEY_GROUPS)`. */
export function keyGroup(key: Uint8Array): number {
  return fnv1a32(key) % KEY_GROUPS;
}
