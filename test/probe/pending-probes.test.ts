import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { PendingProbes } from '../../src/probe/pending-probes.js';
import { ProbeSendError } from '../../src/probe/probe-reply.js';

const sendNow = (sending: () => void) => {
  sending();
  return Promise.resolve();
};

describe('PendingProbes', () => {
  it('a reused key (a wrapped sequence number) gives up the old probe, and the old timer never ends the new one', async () => {
    const pending = new PendingProbes();
    const first = pending.run('198.19.0.1|7', 20, sendNow);
    const second = pending.run('198.19.0.1|7', 10_000, sendNow);
    assert.equal(await first, undefined);
    await sleep(60); // past the first probe's timeout
    pending.settle('198.19.0.1|7', process.hrtime.bigint(), (rttUs) => ({ from: '198.19.0.1', rttUs }));
    const reply = await second;
    assert.equal(reply?.from, '198.19.0.1');
    assert.equal(pending.size, 0);
  });

  it('times out from when the packet left; a failed send is no lost probe but an error that says why', async () => {
    const pending = new PendingProbes();
    const refused = Object.assign(new Error('connect ENETUNREACH'), { code: 'ENETUNREACH' });
    await assert.rejects(
      pending.run('192.0.2.1|7', 10, () => Promise.reject(refused)),
      (err: unknown) => {
        assert.ok(err instanceof ProbeSendError);
        assert.equal(err.dst, '192.0.2.1');
        assert.equal(err.reason, 'ENETUNREACH (connect ENETUNREACH)');
        return true;
      },
    );
    assert.equal(await pending.run('k2', 10, sendNow), undefined);
    assert.equal(pending.size, 0);
  });

  it('ignores an answer for a probe not yet sent', async () => {
    const pending = new PendingProbes();
    let release!: () => void;
    const probe = pending.run('k', 50, (sending) => new Promise<void>((r) => (release = () => (sending(), r()))));
    pending.settle('k', process.hrtime.bigint(), (rttUs) => ({ from: 'x', rttUs }));
    release();
    assert.equal(await probe, undefined, 'an answer before the probe left cannot be its answer');
  });
});
