import type { PoolClient } from '../db/create-pool.js';
import { int8 } from '../db/int8.js';
import type { targetBlocks } from '../db/schema/targets.js';
import type { TableRow } from '../db/table-row.js';
import { parseTarget } from '../net/ip-address.js';
import { hash32 } from '../net/hash32.js';
import { BlockWalk, type AddressFilter } from './target-streams.js';

export interface RingCursor {
  start: number;
  cursorKey: number | null;
  cursorCidr: string | null;
  wrapped: boolean;
  done: boolean;
}

type RingRow = Pick<TableRow<typeof targetBlocks>, 'id' | 'cidr' | 'walk_size' | 'shuffle_key'>;

/** Blocks fetched from the ring per query; a batch of single-address blocks opens about this many. */
const RING_PAGE = 128;

/** The permutation key of a consumer's walk through a block: the same in every database. */
export const walkKey = (consumerId: string, cidr: string): number => hash32(`${consumerId}|${cidr}`);

/**
 * A consumer's pass over the block ring: blocks ordered by (shuffle_key, cidr), starting at a point of
 * the consumer's own and wrapping once. Reads pages ahead, but the cursor moves only past blocks that
 * were actually opened, so what is persisted is exactly what was walked.
 */
export class ConsumerRing {
  private page: RingRow[] = [];

  constructor(
    private readonly client: PoolClient,
    private readonly consumerId: string,
    readonly cursor: RingCursor,
    private readonly families: number[],
    private readonly allowed: AddressFilter,
    private readonly blockAllowed: (cidr: string) => boolean,
  ) {}

  async open(): Promise<BlockWalk | undefined> {
    for (;;) {
      if (this.page.length === 0 && !(await this.fetch())) return undefined;
      const row = this.page.shift()!;
      this.cursor.cursorKey = row.shuffle_key;
      this.cursor.cursorCidr = row.cidr;
      if (!this.blockAllowed(row.cidr)) continue;
      const parsed = parseTarget(row.cidr);
      if (!parsed.ok) continue;
      return new BlockWalk(
        int8(row.id),
        parsed.block,
        int8(row.walk_size),
        walkKey(this.consumerId, row.cidr),
        0,
        this.allowed,
      );
    }
  }

  private async fetch(): Promise<boolean> {
    while (!this.cursor.done) {
      const side = this.cursor.wrapped ? 'b.shuffle_key < $1' : 'b.shuffle_key >= $1';
      const { rows } = await this.client.query<RingRow>(
        // Ordered by the cidr column itself (qualified: the text alias would sort as text and disagree
        // with the cursor comparison), which the partial ring index serves without a sort.
        `select b.id, b.cidr::text as cidr, b.walk_size, b.shuffle_key from target_blocks b
          where b.effective and b.family = any($4::smallint[]) and ${side}
            and ($2::int is null or (b.shuffle_key, b.cidr) > ($2::int, $3::cidr))
          order by b.shuffle_key, b.cidr limit ${RING_PAGE}`,
        [this.cursor.start, this.cursor.cursorKey, this.cursor.cursorCidr, this.families],
      );
      if (rows.length > 0) {
        this.page = rows;
        return true;
      }
      if (this.cursor.wrapped) this.cursor.done = true;
      else Object.assign(this.cursor, { wrapped: true, cursorKey: null, cursorCidr: null });
    }
    return false;
  }
}
