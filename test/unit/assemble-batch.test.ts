import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTIVE_BLOCKS, assembleBatch, type BatchState } from '../../src/targets/assemble-batch.js';
import { parseAddress, parseTarget, prefixKey } from '../../src/net/ip-address.js';
import { blockWalkSize } from '../../src/targets/block-permutation.js';
import { BlockWalk, HopQueue, type HopCandidate } from '../../src/targets/target-streams.js';

let nextId = 1;
function walk(cidr: string, key = 7): BlockWalk {
  const parsed = parseTarget(cidr);
  if (!parsed.ok) throw new Error(parsed.reason);
  return new BlockWalk(nextId++, parsed.block, blockWalkSize(parsed.block), key, 0, () => true);
}
const hop = (id: number, address: string): HopCandidate => ({ id, address, prefix: prefixKey(parseAddress(address)!) });
const p24 = (address: string) => prefixKey(parseAddress(address)!);

/** A ring of blocks handed out in order by `openBlock`. */
function ring(cidrs: string[]) {
  const rest = cidrs.map((c) => walk(c));
  let opened = 0;
  const open = () => {
    opened++;
    return Promise.resolve(rest.shift());
  };
  return { open, opened: () => opened, left: () => rest.length };
}
const state = (walks: BlockWalk[] = [], hops: HopCandidate[] = [], lastPrefix: string | null = null): BatchState => ({
  walks,
  hops: new HopQueue(hops),
  rr: 0,
  lastPrefix,
});

/** The /24 rule: an address shares its /24 with the one before only when nothing of another /24 was left. */
function assertSpread(targets: Array<{ prefix: string }>, leftAfter: (i: number) => Set<string>) {
  for (let i = 1; i < targets.length; i++) {
    if (targets[i]!.prefix !== targets[i - 1]!.prefix) continue;
    const others = [...leftAfter(i)].filter((p) => p !== targets[i]!.prefix);
    assert.deepEqual(
      others,
      [],
      `targets ${i - 1} and ${i} share ${targets[i]!.prefix} while ${others.join(', ')} was left`,
    );
  }
}

describe('assembleBatch and the /24 rule', () => {
  it('interleaves blocks round-robin: three /30s in three /24s give A B C A B C …', async () => {
    const r = ring(['10.1.0.0/30', '10.2.0.0/30', '10.3.0.0/30']);
    const out = await assembleBatch(state(), 12, r.open);
    const prefixes = out.targets.map((t) => t.prefix);
    // Until the first block runs out; after, the turn moves on by position among the walks still open.
    assert.deepEqual(
      prefixes.slice(0, 9),
      Array.from({ length: 9 }, (_, i) => `10.${(i % 3) + 1}.0.0/24`),
    );
    assert.deepEqual(
      [...prefixes].sort(),
      [...prefixes.slice(0, 12)].sort().map((_, i) => `10.${Math.floor(i / 4) + 1}.0.0/24`),
    );
    for (let i = 1; i < prefixes.length; i++) assert.notEqual(prefixes[i], prefixes[i - 1]);
    assert.equal(out.exhausted, false);
  });

  it('never serves two consecutive addresses of one /24 while another is left (a /22 and a /30, 1,028 addresses)', async () => {
    const r = ring(['10.0.0.0/22', '10.9.0.0/30']);
    const out = await assembleBatch(state(), 2000, r.open);
    assert.equal(out.targets.length, 1028);
    assert.equal(out.exhausted, true);
    assert.equal(new Set(out.targets.map((t) => t.address)).size, 1028, 'no address twice');
    const all = out.targets.map((t) => t.prefix);
    assertSpread(out.targets, (i) => new Set(all.slice(i)));
  });

  it('gives consecutive addresses of one /24 when only that /24 is left', async () => {
    const out = await assembleBatch(state(), 300, ring(['10.0.0.0/24']).open);
    assert.equal(out.targets.length, 256);
    assert.ok(out.targets.every((t) => t.prefix === '10.0.0.0/24'));
    assert.equal(out.exhausted, true);
  });

  it(`keeps ${ACTIVE_BLOCKS} blocks open: the first ${ACTIVE_BLOCKS} targets come from ${ACTIVE_BLOCKS} blocks, the 11th block waits`, async () => {
    const cidrs = Array.from({ length: 12 }, (_, i) => `10.${i + 1}.0.0/24`);
    const r = ring(cidrs);
    const st = state();
    const out = await assembleBatch(st, ACTIVE_BLOCKS, r.open);
    assert.deepEqual(
      out.targets.map((t) => t.prefix),
      cidrs.slice(0, ACTIVE_BLOCKS),
    );
    assert.equal(r.opened(), ACTIVE_BLOCKS);
    assert.equal(st.walks.length, ACTIVE_BLOCKS);
  });

  it('opens more blocks to find another /24 when every open walk would repeat the last one', async () => {
    // Ten /28s of 10.0.0.0/24 are open and the last target was in it: the ring's next block, elsewhere, goes first.
    const walks = Array.from({ length: ACTIVE_BLOCKS }, (_, i) => walk(`10.0.0.${i * 16}/28`));
    const r = ring(['10.7.7.0/30']);
    const out = await assembleBatch(state(walks, [], '10.0.0.0/24'), 3, r.open);
    assert.deepEqual(
      out.targets.map((t) => t.prefix),
      ['10.7.7.0/24', '10.0.0.0/24', '10.7.7.0/24'],
    );
  });

  it('takes hops as one more turn beside the blocks: hop, block, block, hop, …', async () => {
    const hops = [hop(1, '192.0.2.1'), hop(2, '198.51.100.1'), hop(3, '203.0.113.1')];
    const out = await assembleBatch(state([], hops), 9, ring(['10.1.0.0/30', '10.2.0.0/30']).open);
    assert.deepEqual(
      out.targets.map((t) => t.address.split('.').slice(0, 2).join('.')),
      ['192.0', '10.1', '10.2', '198.51', '10.1', '10.2', '203.0', '10.1', '10.2'],
    );
    assert.deepEqual(
      out.servedHops.map((h) => h.id),
      [1, 2, 3],
    );
  });

  it('takes hops freshest first, but passes over a hop in the last /24 for another hop', async () => {
    const hops = [hop(9, '192.0.2.1'), hop(8, '192.0.2.2'), hop(7, '198.51.100.1')];
    const out = await assembleBatch(state([], hops, '192.0.2.0/24'), 3, ring([]).open);
    assert.deepEqual(
      out.targets.map((t) => t.address),
      ['198.51.100.1', '192.0.2.1', '192.0.2.2'],
    );
    assert.deepEqual(
      out.servedHops.map((h) => h.id),
      [7, 9, 8],
    );
  });

  it('a hop never follows an address of its own /24 from a block while a block address elsewhere is left', async () => {
    const hops = [hop(1, '10.1.0.200')];
    const out = await assembleBatch({ ...state([], hops), rr: 1 }, 3, ring(['10.1.0.0/30', '10.2.0.0/30']).open);
    const prefixes = out.targets.map((t) => t.prefix);
    for (let i = 1; i < prefixes.length; i++) assert.notEqual(prefixes[i], prefixes[i - 1], prefixes.join(' '));
  });

  it('says exhausted only when no walk, no hop and no block is left', async () => {
    const full = await assembleBatch(state([], [hop(1, '192.0.2.1')]), 5, ring(['10.1.0.0/31']).open);
    assert.equal(full.targets.length, 3);
    assert.equal(full.exhausted, true);
    const enough = await assembleBatch(state([], [hop(1, '192.0.2.1')]), 3, ring(['10.1.0.0/31']).open);
    assert.equal(enough.exhausted, false);
  });

  it('carries the last /24 and the turn into the next batch: batch 2 does not start in the /24 batch 1 ended in', async () => {
    const r = ring(['10.1.0.0/28', '10.2.0.0/28']);
    const st = state();
    const one = await assembleBatch(st, 5, r.open);
    const two = await assembleBatch(st, 5, r.open);
    assert.notEqual(two.targets[0]!.prefix, one.targets.at(-1)!.prefix);
    const all = [...one.targets, ...two.targets];
    assert.equal(new Set(all.map((t) => t.address)).size, 10);
  });

  it('the /24 rule holds for random mixes of blocks and hops (50 seeded cases)', async () => {
    let seed = 12345;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n;
    for (let c = 0; c < 50; c++) {
      const cidrs = Array.from({ length: 1 + rand(14) }, (_, i) => `10.${c}.${i * 4}.0/${[22, 24, 28, 30][rand(4)]}`);
      const hops = Array.from({ length: rand(8) }, (_, i) => hop(i + 1, `172.16.${rand(3)}.${i + 1}`));
      const r = ring(cidrs);
      const out = await assembleBatch(state([], hops), 5000, r.open);
      const all = out.targets.map((t) => t.prefix);
      assert.equal(new Set(out.targets.map((t) => t.address)).size, out.targets.length, `case ${c}: an address twice`);
      assertSpread(out.targets, (i) => new Set(all.slice(i)));
      assert.equal(p24(out.targets[0]!.address), out.targets[0]!.prefix);
    }
  });
});
