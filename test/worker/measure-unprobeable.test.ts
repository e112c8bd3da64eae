import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/lab/run-ip.js';
import { teardownLab } from '../../src/lab/teardown-lab.js';
import { resultSchema, type Result } from '../../src/results/result-schema.js';
import { createLoopbackNamespace, nodeInNamespace } from '../cli/loopback-namespace.js';
import { removeStaleTestLabs, testLabName } from '../lab/test-lab-name.js';
import { needs } from '../support/needs.js';

const skip = needs('root', 'ip');
const TAG = 'tmeasure';

describe(
  'a target the worker cannot probe is an error result with the reason, never unanswered probes',
  { skip },
  () => {
    let lab: string;
    let ns: string;
    before(async () => {
      await removeStaleTestLabs(TAG);
      lab = testLabName(TAG);
      // Only lo, up: 127.0.0.1 and ::1 are reachable, nothing else has a route, so nothing leaves the machine.
      ns = await createLoopbackNamespace(lab);
    });
    after(async () => {
      await teardownLab(lab);
    });

    const measure = async (targets: string[]): Promise<Result[]> => {
      const [cmd, ...args] = nodeInNamespace(ns, ['test/fixtures/measure-in-namespace.ts', JSON.stringify(targets)]);
      const res = await run(cmd!, args, { timeoutMs: 30_000 });
      assert.equal(res.code, 0, res.stderr);
      return (JSON.parse(res.stdout) as unknown[]).map((r) => resultSchema.parse(r));
    };

    it('no route to the target: one error result, no ping claiming probes were sent', async () => {
      const results = await measure(['198.18.5.5', '2001:db8::5']);
      assert.deepEqual(
        results.map((r) => [r.target, r.type, r.type === 'error' && r.measurement]),
        [
          ['198.18.5.5', 'error', 'ping'],
          ['2001:db8::5', 'error', 'ping'],
        ],
      );
      for (const r of results) assert.match(r.type === 'error' ? r.reason : '', /^no route to .*: ENETUNREACH/);
    });

    it('an IPv6 target with a route is pinged with ICMPv6 echo; its traceroute is an error that says why', async () => {
      const results = await measure(['::1']);
      const [ping, trace] = results;
      assert.equal(ping?.type, 'ping');
      assert.equal(ping.method, 'icmp');
      assert.equal(ping.sent, 2);
      assert.equal(ping.received, 2);
      assert.ok(
        ping.rtts_us.every((rtt) => rtt > 0 && rtt < 1_000_000),
        JSON.stringify(ping.rtts_us),
      );
      assert.equal(trace?.type, 'error');
      assert.equal(trace.measurement, 'traceroute');
      assert.equal(trace.method, 'udp-paris');
      assert.match(trace.reason, /IPv6 traceroute/);
      assert.equal(results.length, 2);
    });

    it('an IPv4 target the raw socket reaches is measured as before', async () => {
      const results = await measure(['127.0.0.1']);
      assert.deepEqual(
        results.map((r) => r.type),
        ['ping', 'traceroute'],
      );
      assert.equal(results[0]!.type === 'ping' && results[0]!.received, 2);
    });
  },
);
