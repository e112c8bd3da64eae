import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildLab } from '../../src/lab/build-lab.js';
import type { HopSequence } from '../../src/lab/lab-truth.js';
import type { Lab } from '../../src/lab/open-lab.js';
import { forEachLimited, run } from '../../src/lab/run-ip.js';
import { labNamespaces, teardownLab } from '../../src/lab/teardown-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import { assertNoLeaks } from '../support/leaks.js';
import { removeStaleTestLabs, testLabName } from './test-lab-name.js';
import { needs } from '../support/needs.js';

const skip = needs('root', 'ip');

const TAG = 'tdiamond';
const NAME = testLabName(TAG);
const topology = loadTopology('lab/diamond.yaml');

interface Answer {
  kind: 'reply' | 'ttl-exceeded' | 'none';
  from: string | null;
}

/** One echo request with `ttl` from `node`; who answered and how. Waits at most a second for silence. */
async function ping(lab: Lab, node: string, address: string, ttl = 64): Promise<Answer> {
  const res = await lab.exec(node, 'ping', ['-n', '-c1', '-W1', '-t', String(ttl), address], { timeoutMs: 10_000 });
  const exceeded = /From (\S+) icmp_seq=\d+ Time to live exceeded/.exec(res.stdout);
  if (exceeded) return { kind: 'ttl-exceeded', from: exceeded[1]! };
  const reply = /\d+ bytes from ([\d.]+): icmp_seq=/.exec(res.stdout);
  if (reply && res.code === 0) return { kind: 'reply', from: reply[1]! };
  assert.equal(res.code, 1, `ping ${address} from ${node}: no answer should exit 1\n${res.stdout}${res.stderr}`);
  return { kind: 'none', from: null };
}

describe('the diamond lab, built for real', { skip }, () => {
  let lab: Lab;
  let buildMs = 0;

  before(async () => {
    await removeStaleTestLabs(TAG);
    const started = performance.now();
    lab = await buildLab(topology, { name: NAME });
    buildMs = performance.now() - started;
  });

  after(async () => {
    await teardownLab(NAME);
    assert.deepEqual(labNamespaces(NAME), [], 'no namespace of the lab is left');
    await assertNoLeaks();
  });

  it('has one namespace per node and adds nothing to the host namespace', async (t) => {
    t.diagnostic(`built in ${buildMs.toFixed(0)} ms`);
    assert.deepEqual(labNamespaces(NAME), [...lab.plan.nodes.values()].map((n) => n.ns).sort());
    const host = await run('ip', ['-o', 'addr', 'show']);
    const ours = lab.plan.links.flatMap((l) => [l.aAddress, l.bAddress]);
    for (const address of ours)
      assert.ok(!host.stdout.includes(` ${address}/`), `${address} is not on a host interface`);
  });

  it('answers ping from the probe on every interface of every node and on any address of the target lo /24', async () => {
    const addresses = [
      ...[...lab.plan.nodes.values()].flatMap((n) => n.interfaces.map((i) => i.address)),
      '198.19.100.0',
      '198.19.100.1',
      '198.19.100.77',
      '198.19.100.255',
    ];
    const failed: string[] = [];
    await forEachLimited(addresses, 16, async (address) => {
      const answer = await ping(lab, 'probe', address);
      if (answer.kind !== 'reply' || answer.from !== address) failed.push(`${address}: ${JSON.stringify(answer)}`);
    });
    assert.deepEqual(failed, []);
  });

  it('has two-nexthop ECMP routes at r2 toward the target and at r4 back toward the probe', async () => {
    const forward = await run('ip', ['-n', lab.nsName('r2'), 'route', 'show', '198.19.100.0/24']);
    assert.deepEqual(forward.stdout.match(/nexthop via \S+/g), ['nexthop via 198.18.0.10', 'nexthop via 198.18.0.14']);
    const back = await run('ip', ['-n', lab.nsName('r4'), 'route', 'show', lab.plan.links[0]!.subnet.cidr]);
    assert.deepEqual(back.stdout.match(/nexthop via \S+/g), ['nexthop via 198.18.0.17', 'nexthop via 198.18.0.21']);
    const hash = await lab.exec('r2', 'cat', ['/proc/sys/net/ipv4/fib_multipath_hash_policy']);
    assert.equal(hash.stdout.trim(), '1', 'L4 hashing');
  });

  it('traces hop by hop exactly as truePaths says, over both ECMP branches, with no answer from the silent r5', async () => {
    const targets = Array.from({ length: 16 }, (_, i) => `198.19.100.${10 + i}`);
    const seen = new Map<string, HopSequence>();
    await forEachLimited(targets, 8, async (address) => {
      const hops = await Promise.all([1, 2, 3, 4, 5, 6].map((ttl) => ping(lab, 'probe', address, ttl)));
      seen.set(
        address,
        hops.map((h) => h.from),
      );
      assert.deepEqual(
        hops.map((h) => h.kind),
        ['ttl-exceeded', 'ttl-exceeded', 'ttl-exceeded', 'ttl-exceeded', 'none', 'reply'],
        address,
      );
    });
    const branches = new Set<string>();
    for (const [address, hops] of seen) {
      const paths = lab.truth().truePaths('probe', address);
      assert.ok(
        paths.some((p) => JSON.stringify(p) === JSON.stringify(hops)),
        `${address}: saw ${JSON.stringify(hops)}, truth ${JSON.stringify(paths)}`,
      );
      branches.add(hops[2]!);
    }
    // Each address hashes to one branch; 16 all landing on one has probability 2^-15.
    assert.deepEqual([...branches].sort(), ['198.18.0.10', '198.18.0.14'], 'both branches of the split are used');
  });

  it('sends nothing out of the lab: addresses outside it have no route on hosts or routers', async () => {
    for (const node of ['probe', 'r3a', 'target']) {
      const res = await lab.exec(node, 'ip', ['route', 'get', '203.0.113.1']);
      assert.notEqual(res.code, 0, `${node}: ${res.stdout}`);
      assert.match(res.stderr, /Network is unreachable/);
    }
  });

  it('builds again over its own leftovers, and tears down completely and idempotently', async (t) => {
    const started = performance.now();
    lab = await buildLab(topology, { name: NAME });
    t.diagnostic(`rebuilt over leftovers in ${(performance.now() - started).toFixed(0)} ms`);
    assert.equal((await ping(lab, 'probe', '198.19.100.1')).kind, 'reply');

    const down = performance.now();
    const removed = await lab.teardown();
    t.diagnostic(`torn down in ${(performance.now() - down).toFixed(0)} ms`);
    assert.equal(removed.length, lab.plan.nodes.size);
    const listed = await run('ip', ['netns', 'list']);
    assert.deepEqual(
      listed.stdout.split('\n').filter((line) => line.startsWith(`hm-${NAME}-`)),
      [],
    );
    assert.deepEqual(await lab.teardown(), [], 'a second teardown finds nothing');
  });
});
