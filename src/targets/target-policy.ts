import type { PoolClient } from '../db/create-pool.js';
import { AddressRangeSet } from './address-range-set.js';
import { parseTarget, type Address, type Block } from '../net/ip-address.js';
import { createReservedFilter } from '../net/reserved-ranges.js';

export interface AddressFilters {
  /** May this address be served? (not reserved unless allowed, not on the do-not-probe list) */
  allowed: (a: Address) => boolean;
  /** False when no address of the block could be served, so it is skipped whole. */
  blockAllowed: (cidr: string) => boolean;
}

/**
 * What may be served: IPv4 only unless --ipv6; reserved and bogon ranges never, unless a range is allowed
 * explicitly (--allow-cidr, e.g. 198.18.0.0/15 in a lab); never anything on the do-not-probe list. The list
 * is kept in memory and reloaded whenever its version (bumped by a trigger on every change, read with the
 * consumer's row) moves, so an exclusion added at any instance holds from the next batch everywhere.
 */
export class TargetPolicy {
  readonly families: number[];
  private readonly reserved;
  private excluded?: { version: number; set: AddressRangeSet };

  constructor(opts: { ipv6: boolean; allow: Block[] }) {
    this.families = opts.ipv6 ? [4, 6] : [4];
    this.reserved = createReservedFilter(opts.allow);
  }

  async addressFilter(client: PoolClient, exclusionsVersion: number): Promise<AddressFilters> {
    if (this.excluded?.version !== exclusionsVersion) {
      const { rows } = await client.query<{ cidr: string }>('select cidr::text as cidr from target_exclusions');
      const blocks = rows.flatMap((r) => {
        const parsed = parseTarget(r.cidr);
        return parsed.ok ? [parsed.block] : [];
      });
      this.excluded = { version: exclusionsVersion, set: new AddressRangeSet(blocks) };
    }
    const excluded = this.excluded.set;
    const allowed = excluded.empty
      ? (a: Address) => !this.reserved.isReserved(a).reserved
      : (a: Address) => !this.reserved.isReserved(a).reserved && !excluded.has(a);
    const blockAllowed = (cidr: string) => {
      const parsed = parseTarget(cidr);
      return parsed.ok && this.reserved.blockStatus(parsed.block) !== 'reserved' && !excluded.covers(parsed.block);
    };
    return { allowed, blockAllowed };
  }
}
