/**
 * FNV-1a, 32 bits: a stable hash of a string, the same in every process and database. Used to place
 * blocks on the ring and key each consumer's walk, so state exported from one database means the same
 * in another.
 */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32): FNV alone leaves similar strings close together.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The same hash as a signed 32-bit integer, for PostgreSQL `integer` columns. */
export const hashInt32 = (text: string): number => hash32(text) | 0;
