import type { BlockWalk, Candidate, HopCandidate, HopQueue } from './target-streams.js';

/** Blocks walked round-robin per consumer; the hop queue takes one more turn beside them. */
export const ACTIVE_BLOCKS = 10;
/** How many extra blocks may be opened to find a different /24 when every open stream repeats the last. */
const EXTRA_BLOCKS_FOR_SPREAD = 10;

export interface BatchState {
  walks: BlockWalk[];
  hops: HopQueue;
  /** Round-robin position over [hops, ...walks]. */
  rr: number;
  lastPrefix: string | null;
}

export interface Assembled {
  targets: Candidate[];
  servedHops: HopCandidate[];
  /** True when the pool ran dry: no walk, no hop and no block left to open. */
  exhausted: boolean;
}

/**
 * Builds the next `want` targets for one consumer. Streams are the hop queue and up to ten block walks,
 * taken in turn; a stream whose next address shares the last served /24 is passed over, and if every
 * stream would repeat it, more blocks are opened to find another /24 before giving in (only then does the
 * pool hold a single /24). `openBlock` opens the next block on the consumer's ring, or says there is none.
 */
export async function assembleBatch(
  state: BatchState,
  want: number,
  openBlock: () => Promise<BlockWalk | undefined>,
): Promise<Assembled> {
  const targets: Candidate[] = [];
  const servedHops: HopCandidate[] = [];
  let ringEmpty = false;

  const open = async (): Promise<boolean> => {
    if (ringEmpty) return false;
    const walk = await openBlock();
    if (!walk) {
      ringEmpty = true;
      return false;
    }
    state.walks.push(walk);
    return true;
  };

  while (targets.length < want) {
    state.walks = state.walks.filter((w) => !w.done);
    while (state.walks.length < ACTIVE_BLOCKS && (await open())) state.walks = state.walks.filter((w) => !w.done);
    if (state.walks.length === 0 && state.hops.size === 0) return { targets, servedHops, exhausted: true };

    let picked = pickStream(state, false);
    for (let extra = 0; !picked && extra < EXTRA_BLOCKS_FOR_SPREAD && (await open()); extra++)
      picked = pickStream(state, false);
    picked ??= pickStream(state, true);
    if (!picked) continue;

    targets.push(picked.candidate);
    state.lastPrefix = picked.candidate.prefix;
    picked.take();
    if ('id' in picked.candidate) servedHops.push(picked.candidate as HopCandidate);
  }
  return { targets, servedHops, exhausted: false };
}

interface Pick {
  candidate: Candidate;
  take(): void;
}

function pickStream(state: BatchState, allowRepeat: boolean): Pick | undefined {
  const count = state.walks.length + 1;
  for (let i = 0; i < count; i++) {
    const slot = (state.rr + i) % count;
    let pick: Pick | undefined;
    if (slot === 0) {
      const hop = state.hops.peek(state.lastPrefix);
      if (hop) pick = { candidate: hop, take: () => state.hops.take(hop) };
    } else {
      const walk = state.walks[slot - 1]!;
      const next = walk.peek();
      if (next) pick = { candidate: next, take: () => walk.take() };
    }
    if (pick && (allowRepeat || pick.candidate.prefix !== state.lastPrefix)) {
      state.rr = (slot + 1) % count;
      return pick;
    }
  }
  return undefined;
}
