import { blockAddressAt } from './block-permutation.js';
import { formatAddress, prefixKey, type Address, type Block } from '../net/ip-address.js';

export interface Candidate {
  address: string;
  prefix: string;
}

/** Decides whether an address may be served (reserved ranges, do-not-probe list). */
export type AddressFilter = (a: Address) => boolean;

/** A consumer's walk through one block: position counts the walk's steps, served or filtered. */
export class BlockWalk {
  private pending?: Candidate;

  constructor(
    readonly blockId: number,
    readonly block: Block,
    readonly walkSize: number,
    private readonly key: number,
    public position: number,
    private readonly allowed: AddressFilter,
  ) {}

  /** The next servable address, without taking it; filtered addresses are stepped over for good. */
  peek(): Candidate | undefined {
    if (this.pending) return this.pending;
    while (this.position < this.walkSize) {
      const a: Address = { family: this.block.family, value: blockAddressAt(this.block, this.key, this.position) };
      if (this.allowed(a)) {
        this.pending = { address: formatAddress(a), prefix: prefixKey(a) };
        return this.pending;
      }
      this.position++;
    }
    return undefined;
  }

  take(): void {
    this.pending = undefined;
    this.position++;
  }

  get done(): boolean {
    return this.peek() === undefined;
  }
}

export interface HopCandidate extends Candidate {
  id: number;
}

/**
 * Unserved hops, freshest first. Any of them may be taken out of order to avoid repeating a /24: the next is
 * from the /24 with the most hops left (the freshest of those), so that hops alone, as between passes, come
 * out spread whenever they can be.
 */
export class HopQueue {
  private readonly left = new Map<string, number>();

  constructor(private readonly items: HopCandidate[]) {
    for (const h of items) this.left.set(h.prefix, (this.left.get(h.prefix) ?? 0) + 1);
  }

  peek(avoidPrefix: string | null): HopCandidate | undefined {
    let best: HopCandidate | undefined;
    for (const h of this.items)
      if (h.prefix !== avoidPrefix && (!best || this.left.get(h.prefix)! > this.left.get(best.prefix)!)) best = h;
    return best ?? this.items[0];
  }

  take(hop: HopCandidate): void {
    this.items.splice(this.items.indexOf(hop), 1);
    this.left.set(hop.prefix, this.left.get(hop.prefix)! - 1);
  }

  get size(): number {
    return this.items.length;
  }
}
