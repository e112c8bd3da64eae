import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stoppingPoint } from '../../src/probe/mda-stopping-points.js';

describe('MDA stopping points', () => {
  it('match the published MDA table at 95%, and the bound at 99%', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((k) => stoppingPoint(k, 0.95)),
      [6, 11, 16, 21, 27],
    );
    assert.deepEqual(
      [1, 2].map((k) => stoppingPoint(k, 0.99)),
      [8, 15],
    );
  });

  it('grow with the number of interfaces and with the confidence', () => {
    for (let k = 1; k < 16; k++) {
      assert.ok(stoppingPoint(k + 1) > stoppingPoint(k));
      assert.ok(stoppingPoint(k, 0.99) > stoppingPoint(k, 0.95));
    }
  });
});
