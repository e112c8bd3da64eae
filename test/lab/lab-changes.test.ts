import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildLab } from '../../src/lab/build-lab.js';
import { routeCommands } from '../../src/lab/change-lab.js';
import { computeRoutes } from '../../src/lab/compute-routes.js';
import { labTruth, type HopSequence } from '../../src/lab/lab-truth.js';
import type { Lab } from '../../src/lab/open-lab.js';
import { linkKey, planLab, type LabPlan } from '../../src/lab/plan-lab.js';
import { labNamespaces, teardownLab } from '../../src/lab/teardown-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { removeStaleTestLabs, testLabName } from './test-lab-name.js';
import { needs } from '../support/needs.js';

const skip = needs('root', 'ip');

// probe - r1 - r2 - r4 - target, or the longer way r1 - r3a (silent) - r3b - r4 when r1 - r2 is down.
const FILE = 'lab/reroute.yaml';
const topology = loadTopology(FILE);
const TARGET = '198.19.100.1';
const TAG = 'tchange';
const NAME = testLabName(TAG);

/** The address of `node` on its link to `peer`. */
const at = (plan: LabPlan, node: string, peer: string): string =>
  plan.nodes.get(node)!.interfaces.find((i) => i.peer === peer)!.address;

describe('routes and truth with a link down, computed', { skip }, () => {
  const plan = planLab(topology);
  const down = new Set([linkKey('r2', 'r1')]);
  const routes = computeRoutes(plan, down);
  const via = (node: string, cidr: string) =>
    routes
      .get(node)!
      .find((r) => r.prefix.cidr === cidr)
      ?.nexthops.map((h) => h.peer);
  const r1r2 = plan.links.find((l) => l.a === 'r1' && l.b === 'r2')!.subnet.cidr;

  it('routes around the down link, both ways, and no node has a route to its subnet', () => {
    assert.deepEqual(via('r1', '198.19.100.0/24'), ['r3a']);
    assert.deepEqual(via('r4', plan.links[0]!.subnet.cidr), ['r3b']);
    assert.deepEqual(via('r2', plan.links[0]!.subnet.cidr), ['r4'], 'r2 is still reachable, the long way round');
    for (const node of plan.nodes.keys()) assert.equal(via(node, r1r2), undefined, node);
    assert.deepEqual(computeRoutes(plan, new Set()), computeRoutes(plan), 'no down link is the static lab');
  });

  it('truth follows the new routes and marks the link down', () => {
    const truth = labTruth(plan, routes, down);
    assert.deepEqual(truth.truePaths('probe', TARGET), [
      [at(plan, 'r1', 'probe'), null, at(plan, 'r3b', 'r3a'), at(plan, 'r4', 'r3b'), TARGET],
    ]);
    assert.throws(() => truth.truePaths('probe', at(plan, 'r2', 'r1')), /probe has no route to 198\.18\.0\.6/);
    assert.deepEqual(
      truth
        .trueLinks()
        .filter((l) => l.down)
        .map((l) => `${l.a}-${l.b}`),
      ['r1-r2'],
    );
  });

  it('reinstalls every route and deletes those to prefixes that lost theirs, never a connected one', () => {
    const probe = routeCommands(plan, plan.nodes.get('probe')!, routes.get('probe')!);
    assert.ok(probe.includes(`route del ${r1r2}`));
    assert.ok(probe.includes(`route replace 198.19.100.0/24 via ${at(plan, 'r1', 'probe')} dev to-r1`));
    assert.ok(!probe.some((c) => c.startsWith(`route del ${plan.links[0]!.subnet.cidr}`)));
    assert.ok(
      !routeCommands(plan, plan.nodes.get('r1')!, routes.get('r1')!).includes(`route del ${r1r2}`),
      'r1 owns it',
    );
  });
});

interface Answer {
  kind: 'reply' | 'ttl-exceeded' | 'none';
  from: string | null;
}

/** One echo request with `ttl`; who answered and how. Waits at most a second for silence. */
async function ping(lab: Lab, node: string, address: string, ttl = 64): Promise<Answer> {
  const res = await lab.exec(node, 'ping', ['-n', '-c1', '-W1', '-t', String(ttl), address], { timeoutMs: 10_000 });
  const exceeded = /From (\S+) icmp_seq=\d+ Time to live exceeded/.exec(res.stdout);
  if (exceeded) return { kind: 'ttl-exceeded', from: exceeded[1]! };
  const reply = /\d+ bytes from ([\d.]+): icmp_seq=/.exec(res.stdout);
  if (reply && res.code === 0) return { kind: 'reply', from: reply[1]! };
  return { kind: 'none', from: null };
}

/** What a traceroute sees, one echo per TTL: the answering address per hop, null for no answer. */
async function trace(lab: Lab, from: string, address: string, maxTtl = 6): Promise<HopSequence> {
  const hops = await Promise.all(Array.from({ length: maxTtl }, (_, i) => ping(lab, from, address, i + 1)));
  const last = hops.findIndex((h) => h.kind === 'reply');
  assert.ok(last >= 0, `no reply from ${address} within ${maxTtl} hops: ${JSON.stringify(hops)}`);
  return hops.slice(0, last + 1).map((h) => h.from);
}

/** The record-route option of one echo (`ping -R`): each router's outgoing address, there and back, up to nine. */
async function recordRoute(lab: Lab, from: string, address: string): Promise<string[]> {
  const res = await lab.exec(from, 'ping', ['-n', '-c1', '-W1', '-R', address], { timeoutMs: 10_000 });
  assert.equal(res.code, 0, res.stdout + res.stderr);
  return /RR:([\s\d.]*)/.exec(res.stdout)![1]!.split(/\s+/).filter(Boolean);
}

async function hopmap(...args: string[]): Promise<{ code: number | null; output: string }> {
  const p = spawnNode(['bin/hopmap.js', 'lab', ...args]);
  const { code } = await p.exited;
  return { code, output: p.output() };
}

describe('a running lab with a link going down and up, and a router turning silent and back', { skip }, () => {
  let lab: Lab;
  let plan: LabPlan;
  const routeGet = async (node: string, address: string) =>
    (await lab.exec(node, 'ip', ['route', 'get', address])).stdout;

  before(async () => {
    await removeStaleTestLabs(TAG);
    lab = await buildLab(topology, { name: NAME });
    plan = lab.plan;
  });

  after(async () => {
    await teardownLab(NAME);
    assert.deepEqual(labNamespaces(NAME), []);
    await assertNoLeaks();
  });

  const viaR2 = () => [[at(plan, 'r1', 'probe'), at(plan, 'r2', 'r1'), at(plan, 'r4', 'r2'), TARGET]];
  const aroundR2 = () => [[at(plan, 'r1', 'probe'), null, at(plan, 'r3b', 'r3a'), at(plan, 'r4', 'r3b'), TARGET]];

  it('sends traffic through r2 at first, as the truth says', async () => {
    assert.deepEqual(lab.truth().truePaths('probe', TARGET), viaR2());
    assert.deepEqual([await trace(lab, 'probe', TARGET)], viaR2());
    const rr = await recordRoute(lab, 'probe', TARGET);
    assert.deepEqual(rr.slice(0, 4), [
      lab.addressOf('probe'),
      at(plan, 'r1', 'r2'),
      at(plan, 'r2', 'r4'),
      at(plan, 'r4', 'target'),
    ]);
    assert.deepEqual(lab.downLinks(), []);
  });

  it('with r1 - r2 down, truth and real packets take the long way through r3a and r3b, both ways', async () => {
    const routes = lab.routes;
    await lab.setLink('r1', 'r2', 'down');
    assert.equal(lab.routes, routes, 'lab.routes is updated in place');
    assert.deepEqual(
      lab.routes
        .get('r1')!
        .find((r) => r.prefix.cidr === '198.19.100.0/24')!
        .nexthops.map((h) => h.peer),
      ['r3a'],
    );
    assert.deepEqual(
      lab.downLinks().map((l) => `${l.a}-${l.b}`),
      ['r1-r2'],
    );
    assert.deepEqual(
      lab
        .truth()
        .trueLinks()
        .filter((l) => l.down)
        .map((l) => `${l.a}-${l.b}`),
      ['r1-r2'],
    );

    assert.deepEqual(lab.truth().truePaths('probe', TARGET), aroundR2());
    assert.deepEqual([await trace(lab, 'probe', TARGET)], aroundR2(), 'the silent r3a shows as no answer');
    const rr = await recordRoute(lab, 'probe', TARGET);
    const forward = [
      lab.addressOf('probe'),
      at(plan, 'r1', 'r3a'),
      at(plan, 'r3a', 'r3b'),
      at(plan, 'r3b', 'r4'),
      at(plan, 'r4', 'target'),
    ];
    assert.deepEqual(rr.slice(0, 5), forward);
    assert.deepEqual(rr.slice(7), [at(plan, 'r4', 'r3b'), at(plan, 'r3b', 'r3a')], 'the reply comes back the same way');
    assert.match(
      await routeGet('r2', lab.addressOf('probe')),
      new RegExp(`via ${at(plan, 'r4', 'r2')} dev to-r4`),
      'r2 reaches the probe the long way round',
    );
    assert.equal(
      (await ping(lab, 'probe', at(plan, 'r2', 'r1'))).kind,
      'none',
      "the down link's subnet is unreachable",
    );
  });

  it('with r1 - r2 up again, the connected routes are back and traffic goes through r2 again', async () => {
    await lab.setLink('r2', 'r1', 'up');
    const subnet = plan.links.find((l) => l.a === 'r1' && l.b === 'r2')!.subnet.cidr;
    for (const node of ['r1', 'r2']) {
      const connected = await lab.exec(node, 'ip', ['route', 'show', subnet]);
      assert.match(connected.stdout, /proto kernel scope link/, `${node}: ${connected.stdout}`);
    }
    assert.deepEqual(lab.downLinks(), []);
    assert.equal(
      lab
        .truth()
        .trueLinks()
        .some((l) => l.down),
      false,
    );
    assert.deepEqual(lab.truth().truePaths('probe', TARGET), viaR2());
    assert.deepEqual([await trace(lab, 'probe', TARGET)], viaR2());
    assert.deepEqual((await recordRoute(lab, 'probe', TARGET)).slice(0, 3), [
      lab.addressOf('probe'),
      at(plan, 'r1', 'r2'),
      at(plan, 'r2', 'r4'),
    ]);
    assert.equal((await ping(lab, 'probe', at(plan, 'r2', 'r1'))).kind, 'reply');
  });

  it('a silent router made normal answers a TTL-limited probe, and truth shows its address; silent again hides it, also after ratelimited', async () => {
    const r3b = at(plan, 'r3b', 'r3a');
    const r3a = at(plan, 'r3a', 'r1');
    assert.deepEqual(lab.truth().truePaths('probe', r3b), [[at(plan, 'r1', 'probe'), null, r3b]]);
    assert.deepEqual(await ping(lab, 'probe', r3b, 2), { kind: 'none', from: null });

    await lab.setIcmp('r3a', 'normal');
    assert.equal(plan.nodes.get('r3a')!.icmp, 'normal');
    assert.deepEqual(lab.truth().truePaths('probe', r3b), [[at(plan, 'r1', 'probe'), r3a, r3b]]);
    assert.deepEqual(await ping(lab, 'probe', r3b, 2), { kind: 'ttl-exceeded', from: r3a });

    await lab.setIcmp('r3a', 'silent');
    assert.deepEqual(lab.truth().truePaths('probe', r3b), [[at(plan, 'r1', 'probe'), null, r3b]]);
    assert.deepEqual(await ping(lab, 'probe', r3b, 2), { kind: 'none', from: null });

    // Rate-limited leaves credit in the global bucket: silent must refuse anyway.
    await lab.setIcmp('r3a', 'ratelimited');
    assert.deepEqual(
      await ping(lab, 'probe', r3b, 2),
      { kind: 'ttl-exceeded', from: r3a },
      'the first error of a burst',
    );
    await lab.setIcmp('r3a', 'silent');
    assert.deepEqual(await ping(lab, 'probe', r3b, 2), { kind: 'none', from: null });
  });

  it('rate limits as a traceroute meets them: normal answers all, ratelimited a burst of 6, ratelimited-cisco one per 500 ms', async () => {
    const r3b = at(plan, 'r3b', 'r3a');
    // Ten TTL-limited echoes 10 ms apart, all expiring at r3a: the time-exceeded answers it sends.
    const burstOfTen = async () => {
      const res = await lab.exec('probe', 'ping', ['-n', '-c10', '-i', '0.01', '-W1', '-t', '2', r3b], {
        timeoutMs: 10_000,
      });
      return (res.stdout.match(/Time to live exceeded/g) ?? []).length;
    };
    try {
      await lab.setIcmp('r3a', 'normal');
      assert.equal(await burstOfTen(), 10);
      await lab.setIcmp('r3a', 'ratelimited');
      const linux = await burstOfTen();
      assert.ok(linux >= 5 && linux <= 7, `Linux's bucket: a burst of 6, then one a second (${linux})`);
      await lab.setIcmp('r3a', 'ratelimited-cisco');
      // The kernel's global bucket keeps the credit it had (up to the burst it had, 50) until it runs dry:
      // spend it, then wait for one refill.
      await lab.exec('probe', 'ping', ['-n', '-q', '-c150', '-i', '0.002', '-W1', '-t', '2', r3b], {
        timeoutMs: 10_000,
      });
      await sleep(1_100);
      const cisco = await burstOfTen();
      // One credit, spent 0-2 at a time at random: rarely more than two or three answers, never all ten.
      assert.ok(cisco >= 1 && cisco <= 6, `one per 500 ms for every source, no burst (${cisco})`);
      await lab.readState();
      assert.equal(plan.nodes.get('r3a')!.icmp, 'ratelimited-cisco', 'read back from the kernel');
    } finally {
      await lab.setIcmp('r3a', 'silent');
    }
  });

  it('hopmap lab link and icmp change the lab from another process, which finds the down links in the kernel', async () => {
    const r1ToTarget = () => routeGet('r1', TARGET);
    const down = await hopmap('link', FILE, 'r1', 'r2', '--down', '--name', NAME);
    assert.equal(down.code, 0, down.output);
    assert.match(
      down.output,
      new RegExp(`^lab ${NAME}: link r1 - r2 down; routes of 7 nodes reinstalled in \\d+ ms\\nlinks down: r1 - r2\\n$`),
    );
    assert.match(await r1ToTarget(), new RegExp(`via ${at(plan, 'r3a', 'r1')} dev to-r3a`));

    // A second process must keep r1 - r2 down while changing another link.
    const other = await hopmap('link', FILE, 'r3b', 'r4', '--up', '--name', NAME);
    assert.equal(other.code, 0, other.output);
    assert.match(other.output, /links down: r1 - r2\n$/);
    assert.match(await r1ToTarget(), new RegExp(`via ${at(plan, 'r3a', 'r1')} dev to-r3a`));

    await lab.readState();
    assert.deepEqual(
      lab.downLinks().map((l) => `${l.a}-${l.b}`),
      ['r1-r2'],
      'this process reads the state too',
    );
    assert.deepEqual(lab.truth().truePaths('probe', TARGET), aroundR2());

    const up = await hopmap('link', FILE, 'r2', 'r1', '--up', '--name', NAME);
    assert.equal(up.code, 0, up.output);
    assert.match(up.output, /links down: none\n$/);
    assert.match(await r1ToTarget(), new RegExp(`via ${at(plan, 'r2', 'r1')} dev to-r2`));

    const icmp = await hopmap('icmp', FILE, 'r3a', 'normal', '--name', NAME);
    assert.equal(icmp.output, `lab ${NAME}: r3a icmp silent -> normal\n`);
    assert.deepEqual(await ping(lab, 'probe', at(plan, 'r3b', 'r3a'), 2), {
      kind: 'ttl-exceeded',
      from: at(plan, 'r3a', 'r1'),
    });
    await lab.readState();
    assert.equal(plan.nodes.get('r3a')!.icmp, 'normal');
  });

  it('hopmap lab link and icmp exit 2 for an unknown node, a missing link, a bad mode and a lab that is not built', async () => {
    const results = await Promise.all([
      hopmap('link', FILE, 'r1', 'r9', '--down', '--name', NAME),
      hopmap('link', FILE, 'r1', 'r4', '--down', '--name', NAME),
      hopmap('link', FILE, 'r1', 'r2', '--name', NAME),
      hopmap('icmp', FILE, 'r3a', 'loud', '--name', NAME),
      hopmap('icmp', FILE, 'r3a', 'silent', '--name', `${NAME}x`),
    ]);
    assert.deepEqual(results, [
      { code: 2, output: `hopmap: unknown node "r9" in lab ${NAME} (nodes: probe, r1, r2, r3a, r3b, r4, target)\n` },
      { code: 2, output: `hopmap: lab ${NAME} has no link r1 - r4\n` },
      { code: 2, output: 'hopmap: say --down or --up\n' },
      { code: 2, output: 'hopmap: icmp mode "loud": use normal, silent, ratelimited, ratelimited-cisco\n' },
      {
        code: 2,
        output: `hopmap: lab ${NAME}x is not built (no namespace hm-${NAME}x-probe, hm-${NAME}x-r1, hm-${NAME}x-r2, …); build it with hopmap lab up\n`,
      },
    ]);
  });
});
