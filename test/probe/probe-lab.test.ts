import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildLab } from '../../src/lab/build-lab.js';
import type { HopSequence } from '../../src/lab/lab-truth.js';
import type { Lab } from '../../src/lab/open-lab.js';
import { loadTopology } from '../../src/lab/topology.js';
import type { MultipathResult } from '../../src/probe/multipath-trace.js';
import type { ProbeReply } from '../../src/probe/probe-reply.js';
import { TRACE_METHODS, type TraceResult } from '../../src/probe/traceroute.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { removeStaleTestLabs, testLabName } from '../lab/test-lab-name.js';
import { assertNoLeaks } from '../support/leaks.js';
import { needs } from '../support/needs.js';

const skip = needs('root', 'ip');

const TAG = 'tprobe';
const TARGETS = ['198.19.100.1', '198.19.100.77', '198.19.100.200', '198.19.100.254'];

describe('probing the diamond lab for real', { skip }, () => {
  let lab: Lab;

  /** Runs the probe fixture as its own process inside the probe host's namespace. */
  async function probeFrom<T>(command: object): Promise<T> {
    const res = await lab.exec(
      'probe',
      process.execPath,
      ['--import', 'tsx', `${PROJECT_ROOT}/test/fixtures/probe-in-namespace.ts`, JSON.stringify(command)],
      { timeoutMs: 120_000 },
    );
    assert.equal(res.code, 0, res.stderr);
    return JSON.parse(res.stdout) as T;
  }

  /** Per TTL, the one address that answered (null for `*`); fails if one flow's probes disagreed at a hop. */
  function sequence(trace: TraceResult): HopSequence {
    return trace.hops.map((h) => {
      const from = new Set(h.probes.filter((p): p is ProbeReply => p !== null).map((p) => p.from));
      assert.ok(from.size <= 1, `one flow must see one interface per hop, got ${[...from].join(',')} at TTL ${h.ttl}`);
      return from.size ? [...from][0]! : null;
    });
  }

  before(async () => {
    await removeStaleTestLabs(TAG);
    lab = await buildLab(loadTopology(`${PROJECT_ROOT}/lab/diamond.yaml`), { name: testLabName(TAG) });
  });

  after(async () => {
    await lab?.teardown();
    await assertNoLeaks();
  });

  it('pings with microsecond round-trip times', async () => {
    const replies = await probeFrom<Array<ProbeReply | null>>({ op: 'ping', targets: TARGETS, count: 5 });
    assert.equal(replies.length, 20);
    for (const r of replies) {
      assert.ok(r, 'every echo answered');
      assert.equal(r.icmpType, 0);
      assert.ok(r.rttUs > 0 && r.rttUs < 50_000, String(r.rttUs));
    }
    assert.ok(
      replies.some((r) => r!.rttUs < 1_000 && !Number.isInteger(r!.rttUs)),
      'sub-millisecond, not whole milliseconds',
    );
  });

  for (const method of TRACE_METHODS) {
    it(`${method}: reports exactly the true hops, with * for the silent router, one consistent branch per flow`, async () => {
      const traces = await probeFrom<TraceResult[]>({ op: 'trace', method, targets: TARGETS, parallel: true });
      for (const trace of traces) {
        assert.equal(trace.reached, true, JSON.stringify(trace));
        const seq = sequence(trace);
        const truth = lab.truth().truePaths('probe', trace.dst);
        assert.ok(
          truth.some((t) => JSON.stringify(t) === JSON.stringify(seq)),
          `${method} to ${trace.dst}: ${JSON.stringify(seq)} is not one of ${JSON.stringify(truth)}`,
        );
        assert.equal(seq[4], null, 'r5 sends no ICMP errors');
      }
      // The same flow identifier, traced again, takes the same branch every time.
      const again = await probeFrom<TraceResult[]>({
        op: 'trace',
        method,
        targets: Array(4).fill(TARGETS[0]),
        flow: traces[0]!.flow,
      });
      const first = JSON.stringify(sequence(traces[0]!));
      for (const t of again) assert.equal(JSON.stringify(sequence(t)), first);
      // Two targets at once on one flow identifier (a worker's per-target flows can hash alike): each keeps it.
      const shared = await probeFrom<TraceResult[]>({
        op: 'trace',
        method,
        targets: TARGETS.slice(0, 2),
        flow: 24_000,
        parallel: true,
      });
      for (const t of shared) {
        assert.equal(t.flow, 24_000, `${t.dst}: ${t.flow}`);
        assert.equal(t.reached, true);
      }
    });
  }

  it('multipath (MDA over UDP flows) finds both branches of the split and never a link that does not exist', async () => {
    // At 99.99% a branch taking half the flows is missed with probability ~6e-5, so the test does not flake.
    const [result] = await probeFrom<MultipathResult[]>({
      op: 'multipath',
      method: 'udp-paris',
      targets: [TARGETS[1]],
      confidence: 0.9999,
    });
    assert.equal(result!.confidence, 0.9999);
    assert.ok(result!.reached);
    const truth = lab.truth().truePaths('probe', TARGETS[1]!);
    assert.equal(truth.length, 2, 'the lab has two branches');
    const branchHop = result!.hops.find((h) => h.ttl === 3)!;
    assert.deepEqual(
      [...branchHop.interfaces].sort(),
      [truth[0]![2], truth[1]![2]].sort(),
      'both branches seen at TTL 3',
    );
    const trueLinks = new Set(truth.flatMap((seq) => seq.slice(1).map((b, i) => `${seq[i]}>${b}`)));
    for (const [a, b] of result!.links) assert.ok(trueLinks.has(`${a}>${b}`), `false link ${a} > ${b}`);
    assert.ok(result!.links.length >= 4, JSON.stringify(result!.links));
  });

  it('with a Doubletree stop set, sends far fewer probes and still reports only true hops', async () => {
    const targets = Array.from({ length: 40 }, (_, i) => `198.19.100.${i + 100}`);
    const plain = await probeFrom<TraceResult[]>({ op: 'trace', method: 'icmp-paris', targets, parallel: true });
    const { traces, saved } = await probeFrom<{ traces: TraceResult[]; saved: number }>({
      op: 'doubletree',
      method: 'icmp-paris',
      targets,
    });
    const sentPlain = plain.reduce((n, t) => n + t.probesSent, 0);
    const sentDoubletree = traces.reduce((n, t) => n + t.probesSent, 0);
    assert.ok(sentDoubletree < sentPlain / 2, `doubletree sent ${sentDoubletree} probes, plain ${sentPlain}`);
    assert.ok(saved > 0);
    assert.equal(traces[0]!.probesSaved, 0, 'the first trace knows nothing yet');
    for (const trace of traces) {
      const truth = lab.truth().truePaths('probe', trace.dst);
      for (const hop of trace.hops) {
        const from = hop.probes.find((p) => p !== null)?.from ?? null;
        assert.ok(
          truth.some((seq) => seq[hop.ttl - 1] === from),
          `${trace.dst} TTL ${hop.ttl}: ${from} is not on a true path`,
        );
      }
    }
  });

  it('two probing processes in one namespace, same targets at once, each get only their own replies', async () => {
    const many = Array.from({ length: 50 }, (_, i) => `198.19.100.${i + 1}`);
    const [a, b] = await Promise.all([
      probeFrom<Array<ProbeReply | null>>({ op: 'ping', targets: many, count: 4 }),
      probeFrom<Array<ProbeReply | null>>({ op: 'ping', targets: many, count: 4 }),
    ]);
    assert.equal(a.filter(Boolean).length, 200);
    assert.equal(b.filter(Boolean).length, 200);
    // Each reply came from the address its probe was sent to.
    a.forEach((r, i) => assert.equal(r!.from, many[i % 50]));
    b.forEach((r, i) => assert.equal(r!.from, many[i % 50]));
  });
});
