import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { traceMultipath } from '../../src/probe/multipath-trace.js';
import { ResponderBudget } from '../../src/probe/responder-budget.js';
import { traceFlow } from '../../src/probe/traceroute.js';
import { DIAMONDS, DST } from './support/diamonds.js';
import { bucket, chain, ScriptedSender, silent, trueLinks, type ScriptedNetwork } from './support/scripted-network.js';
import { VirtualClock } from './support/virtual-clock.js';

const R = (i: number) => `10.0.0.${i}`;

function budgetOn(clock: VirtualClock): ResponderBudget {
  return new ResponderBudget({ now: clock.read, sleep: clock.sleep });
}

describe('ResponderBudget: which interfaces rate-limit, and the slots it gives them', () => {
  it('paces an interface only once a second try on the same flow is answered by it, and spaces its slots', async () => {
    const clock = new VirtualClock();
    const b = budgetOn(clock);
    b.after(R(1), R(2));
    b.after(R(1), null);
    assert.deepEqual(b.limited(), {}, 'a miss alone proves nothing');
    assert.equal(await b.retryWait(R(1)), true);
    assert.equal(clock.now, 1000, 'the second try waits a second, for the router to have credit again');
    b.retried(R(1), R(2));
    assert.deepEqual(b.limited(), {}, 'once may be a probe lost while a router resolved its neighbour');
    b.after(R(1), null);
    await b.retryWait(R(1));
    b.retried(R(1), R(2));
    assert.deepEqual(b.limited(), { [R(2)]: 2000 });
    const at: number[] = [];
    await Promise.all([1, 2, 3].map(async () => (await b.before(R(1)), at.push(clock.now))));
    assert.deepEqual(at, [4000, 6000, 8000], 'one slot per interval, the first one interval after the credit ran out');
    assert.equal(await b.retryWait(R(1)), true);
    assert.equal(clock.now, 8000, 'past a paced interface a second try waits for its slot instead (in before)');
    await b.before(R(7));
    assert.equal(clock.now, 8000, 'a probe past an interface with no paced successor goes at once');
    // A burst of 20 probes: those whose slot would be more than 10 s away go at once instead of queueing.
    const waits: number[] = [];
    const start = clock.now;
    await Promise.all(Array.from({ length: 20 }, async () => (await b.before(R(1)), waits.push(clock.now - start))));
    assert.ok(Math.max(...waits) <= 10_000, `the longest wait ${Math.max(...waits)} ms`);
    assert.equal(waits.filter((w) => w === 0).length, 15, '5 slots within 10 s (2, 4, … 10 s on), 15 go at once');
  });

  it('knownThrough: only where answers are scarce, and only once this trace has seen every successor the worker knows', async () => {
    const clock = new VirtualClock();
    const b = budgetOn(clock);
    b.after(R(1), R(2));
    b.after(R(1), R(3));
    b.after(R(2), R(4));
    const seen = (...a: number[]) => new Set(a.map(R));
    assert.equal(b.knownThrough(R(1), seen(2, 3)), false, 'nothing rate-limited: the full stopping rule');
    for (let i = 0; i < 2; i++) {
      b.after(R(1), null);
      await b.retryWait(R(1));
      b.retried(R(1), R(2));
    }
    assert.deepEqual(Object.keys(b.limited()), [R(2)]);
    assert.equal(b.knownThrough(R(1), seen(2, 3)), true, 'R1 leads to paced R2, and both its successors are seen');
    assert.equal(b.knownThrough(R(1), seen(2)), false, 'R3 not seen by this trace yet');
    assert.equal(b.knownThrough(R(2), seen(4)), true, 'R2 itself is paced: its flows are the scarce ones');
    assert.equal(b.knownThrough(R(3), seen()), false, 'nothing known past R3');
  });

  it('mayLink: a hole past an interface that leads to a paced one, where some successor is not yet known to reach what follows', async () => {
    const b = budgetOn(new VirtualClock());
    b.after(R(1), R(2));
    b.after(R(1), R(3));
    b.after(R(3), R(5));
    assert.equal(b.mayLink(R(1), R(5)), false, 'nothing past R1 is paced: a loss there is no rate limit');
    for (let i = 0; i < 2; i++) {
      b.after(R(1), null);
      await b.retryWait(R(1));
      b.retried(R(1), R(2));
    }
    assert.deepEqual(Object.keys(b.limited()), [R(2)]);
    assert.equal(b.mayLink(R(1), R(5)), true, 'R2 (paced) is not yet known to lead to R5');
    b.after(R(2), R(5));
    assert.equal(b.mayLink(R(1), R(5)), false, 'both successors of R1 are known to lead to R5: nothing new');
    assert.equal(b.mayLink(R(7), R(5)), false, 'nothing known past R7');
  });

  it('before with patience: a slot further off than the patience is not taken, and the caller hears so', async () => {
    const clock = new VirtualClock();
    const b = budgetOn(clock);
    b.after(R(1), R(2));
    for (let i = 0; i < 2; i++) {
      await b.retryWait(R(1));
      b.retried(R(1), R(2));
    }
    const start = clock.now;
    const got = await Promise.all(Array.from({ length: 12 }, () => b.before(R(1), 20_000)));
    assert.equal(got.filter(Boolean).length, 10, 'slots 2, 4, … 20 s on');
    assert.equal(clock.now - start, 20_000);
    assert.equal(await b.before(R(7), 0), true, 'nothing paced past R7: no slot needed');
  });

  it('never paces a silent router, nor the answering router beside it; after 3 silent second tries it stops trying', async () => {
    const clock = new VirtualClock();
    const b = budgetOn(clock);
    assert.equal(await b.retryWait(R(1)), false, 'nothing past R1 ever answered: a silent hop');
    b.after(R(1), R(2));
    for (let i = 0; i < 3; i++) {
      b.after(R(1), null);
      assert.equal(await b.retryWait(R(1)), true);
      b.retried(R(1), null);
    }
    assert.equal(await b.retryWait(R(1)), false, 'R1 leads to a silent router as well as to R2');
    assert.deepEqual(b.limited(), {});
    assert.equal(clock.now, 3000);
    assert.equal(await b.retryWait(null), false, 'the hop before unknown: no flow to try again');
  });

  it('a miss where a paced interface is the only successor doubles its spacing; answers shorten it until it is paced no more', async () => {
    const b = budgetOn(new VirtualClock());
    b.after(R(1), R(2));
    for (let i = 0; i < 2; i++) {
      await b.retryWait(R(1));
      b.retried(R(1), R(2));
    }
    b.after(R(1), null);
    assert.deepEqual(b.limited(), { [R(2)]: 4000 });
    let answers = 0;
    while (Object.keys(b.limited()).length > 0 && answers < 1000) {
      b.after(R(1), R(2));
      answers++;
    }
    assert.ok(answers > 10 && answers < 100, `${answers} answers to stop pacing it`);
  });
});

describe('ResponderBudget.close: a worker shutting down', () => {
  it('wakes the traces waiting for a slot, and later ones do not wait or try again', async () => {
    // Real timers and an hour between slots: were close() to wake nobody, this test would never end.
    const b = new ResponderBudget({ intervalMs: 3_600_000 });
    b.after(R(1), R(2));
    for (let i = 0; i < 2; i++) {
      b.after(R(1), null);
      b.retried(R(1), R(2));
    }
    assert.deepEqual(b.limited(), { [R(2)]: 3_600_000 });
    const waiting = b.before(R(1));
    b.close();
    await waiting;
    await b.before(R(1));
    assert.equal(await b.retryWait(R(1)), false);
  });
});

/** Traces `n` targets one after another with a fresh sender per trace on one clock. */
async function traces(net: ScriptedNetwork, n: number, opts: { budget: boolean; multipath?: boolean }) {
  const clock = new VirtualClock();
  const budget = opts.budget ? budgetOn(clock) : undefined;
  const sender = new ScriptedSender(net, 'icmp-paris', clock);
  const out: Array<{ links: Set<string>; hops: string[][] }> = [];
  for (let t = 0; t < n; t++) {
    if (opts.multipath) {
      const r = await traceMultipath(net.dst, 'icmp-paris', sender.multipath(), {
        ...(budget ? { responders: budget } : {}),
      });
      out.push({ links: new Set(r.links.map(([a, b]) => `${a}>${b}`)), hops: r.hops.map((h) => h.interfaces) });
    } else {
      const r = await traceFlow(net.dst, 'icmp-paris', 100 + t, sender.paris(100 + t), {
        ...(budget ? { responders: budget } : {}),
      });
      out.push({ links: new Set(), hops: r.hops.map((h) => h.probes.flatMap((p) => (p ? [p.from] : []))) });
    }
  }
  return { out, budget, seconds: clock.now / 1000 };
}

describe('a rate-limited router just before each of many destinations traced at once', () => {
  it('MDA comes back to the flows it left unanswered, so most traces show their own last link through it', async () => {
    // Per destination d: A balances over B1 and B2 into d; B1 answers a burst of 6, then one a second, for all
    // of them together. The link B1>d only a trace of d can show. Twelve traces at once, twice: the first
    // round teaches the budget that B1 is rate-limited, the second is scored. Without coming back to the
    // holes, 11 of 12 second-round traces missed their B1>d; with it, 4.
    const clock = new VirtualClock();
    const budget = budgetOn(clock);
    const credit = new Map<string, { tokens: number; at: number }>();
    const round = () =>
      Promise.all(
        Array.from({ length: 12 }, (_, i) => {
          const dst = `192.0.2.${i + 1}`;
          const net: ScriptedNetwork = {
            first: 'A',
            dst,
            routers: { A: { next: ['B1', 'B2'] }, B1: { next: [dst], answers: bucket(6, 1000) }, B2: { next: [dst] } },
          };
          const sender = new ScriptedSender(net, 'icmp-paris', clock, credit);
          return traceMultipath(dst, 'icmp-paris', sender.multipath(), { responders: budget });
        }),
      );
    await round();
    const second = await round();
    const found = second.filter((r) => r.links.some(([a, b]) => a === 'B1' && b === r.dst)).length;
    assert.ok(found >= 8, `${found} of 12 traces found their link from B1`);
    for (const r of second)
      for (const [a, b] of r.links) assert.ok(b === r.dst || (a === 'A' && b.startsWith('B')), `${a}>${b} is true`);
  });
});

describe('traces through a rate-limited router (Linux: a burst of 6, then one per second)', () => {
  const net = chain(4, DST, { 2: { answers: bucket(6, 1000) } });

  it('Paris traceroute: without budgets the router is `*` once its burst is spent; with them every later trace sees it', async () => {
    const without = await traces(net, 20, { budget: false });
    const seenWithout = without.out.filter((t) => t.hops[1]!.includes(R(2))).length;
    assert.equal(seenWithout, 6, 'the burst, then nothing: the traces come faster than its credit');
    const withBudget = await traces(net, 20, { budget: true });
    const missed = withBudget.out.flatMap((t, i) => (t.hops[1]!.includes(R(2)) ? [] : [i + 1]));
    assert.deepEqual(missed, [], 'the attempts after a miss wait for the router’s slot');
    assert.deepEqual(Object.keys(withBudget.budget!.limited()), [R(2)]);
  });

  it('a silent router is not paced and costs no waiting', async () => {
    const quiet = chain(4, DST, { 2: { answers: silent } });
    const r = await traces(quiet, 10, { budget: true });
    assert.deepEqual(r.budget!.limited(), {});
    assert.equal(r.seconds, 0);
  });

  it('MDA over a 2-way diamond with a rate-limited branch: every trace finds every link with budgets', async () => {
    const diamond = DIAMONDS['2-way diamond']!;
    const limited: ScriptedNetwork = {
      ...diamond,
      routers: { ...diamond.routers, B1: { next: ['C'], answers: bucket(6, 1000) } },
    };
    const truth = trueLinks(limited);
    const complete = (t: { links: Set<string> }) => [...truth].every((l) => t.links.has(l));
    const without = await traces(limited, 10, { budget: false, multipath: true });
    const withBudget = await traces(limited, 10, { budget: true, multipath: true });
    assert.ok(without.out.filter(complete).length < 10, 'without budgets some trace misses a link through B1');
    assert.deepEqual(
      withBudget.out.flatMap((t, i) => (complete(t) ? [] : [i + 1])),
      [],
      'with budgets no trace misses one',
    );
  });
});
