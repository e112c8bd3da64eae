import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { IcmpProber } from '../../src/probe/icmp-prober.js';
import { IcmpSocket } from '../../src/probe/icmp-socket.js';
import { assertNoLeaks } from '../support/leaks.js';
import { needs } from '../support/needs.js';

const skip = needs('root');

// Loopback only: real packets through the kernel, none leave the machine.
describe('ICMP echo on a raw socket (loopback)', { skip }, () => {
  after(async () => {
    await assertNoLeaks();
  });

  it('measures round trips in microseconds from a monotonic clock', async () => {
    const socket = IcmpSocket.open();
    const prober = new IcmpProber(socket);
    try {
      const replies = [];
      for (let i = 0; i < 20; i++) replies.push(await prober.echo('127.0.0.1', { timeoutMs: 1_000 }));
      for (const r of replies) {
        assert.ok(r, 'every echo was answered');
        assert.equal(r.from, '127.0.0.1');
        assert.equal(r.icmpType, 0);
        assert.ok(r.rttUs > 0 && r.rttUs < 1_000_000);
      }
      // Sub-millisecond and not quantised to whole milliseconds, as a Date-based timer would be.
      assert.ok(replies.some((r) => r!.rttUs < 1_000 && !Number.isInteger(r!.rttUs)));
    } finally {
      prober.close();
      socket.close();
    }
  });

  it('two probers probing the same target at once each get only their own replies', async () => {
    // Two sockets, as two worker processes would have.
    const [sa, sb] = [IcmpSocket.open(), IcmpSocket.open()];
    const a = new IcmpProber(sa);
    const b = new IcmpProber(sb);
    try {
      assert.notEqual(a.id, b.id);
      const [ra, rb] = await Promise.all([
        Promise.all(Array.from({ length: 300 }, () => a.echo('127.0.0.1', { timeoutMs: 2_000 }))),
        Promise.all(Array.from({ length: 300 }, () => b.echo('127.0.0.1', { timeoutMs: 2_000 }))),
      ]);
      assert.equal(ra.filter(Boolean).length, 300);
      assert.equal(rb.filter(Boolean).length, 300);
    } finally {
      a.close();
      b.close();
      sa.close();
      sb.close();
    }
  });
});
