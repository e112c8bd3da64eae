import type { PoolClient } from '../db/create-pool.js';
import { addressInBlock, parseTarget, type Address, type Block } from './ip-address.js';
import { createReservedFilter } from './reserved-ranges.js';

export interface AddressFilters {
  /** May this address be served? (not reserved unless allowed, not on the do-not-probe list) */
  allowed: (a: Address) => boolean;
  /** False when no address of the block could be served, so it is skipped whole. */
  blockAllowed: (cidr: string) => boolean;
}

/**
 * What may be served: IPv4 only unless --ipv6; reserved and bogon ranges never, unless a range is allowed
 * explicitly (--allow-cidr, e.g. 198.18.0.0/15 in a lab); never anything on the do-not-probe list, which is
 * read from the database on every batch so an exclusion added at any instance holds at once.
 */
export class TargetPolicy {
  readonly families: number[];
  private readonly reserved;

  constructor(opts: { ipv6: boolean; allow: Block[] }) {
    this.families = opts.ipv6 ? [4, 6] : [4];
    this.reserved = createReservedFilter(opts.allow);
  }

  async addressFilter(client: PoolClient): Promise<AddressFilters> {
    const { rows } = await client.query<{ cidr: string }>('select cidr::text as cidr from target_exclusions');
    const excluded = rows.flatMap((r) => {
      const parsed = parseTarget(r.cidr);
      return parsed.ok ? [parsed.block] : [];
    });
    const allowed = (a: Address) => !this.reserved.isReserved(a).reserved && !excluded.some((b) => addressInBlock(a, b));
    const blockAllowed = (cidr: string) => {
      const parsed = parseTarget(cidr);
      if (!parsed.ok) return false;
      const block = parsed.block;
      if (this.reserved.blockStatus(block) === 'reserved') return false;
      return !excluded.some((e) => e.family === block.family && e.prefixLength <= block.prefixLength && addressInBlock({ family: block.family, value: block.first }, e));
    };
    return { allowed, blockAllowed };
  }
}
