import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load-config.js';
import { ddnsConfigShape, DDNS_ENV_ALIASES, dyfiFromConfig } from '../../src/manager/ddns/ddns-config.js';
import { decideDdnsAction, refreshAt, type DdnsState } from '../../src/manager/ddns/ddns-decision.js';
import { parseDyfiReply } from '../../src/manager/ddns/dyfi-update.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date('2026-11-30T12:00:00Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const me = { instanceId: 'manager-b', selfUrl: 'http://10.0.0.2:8443' };
const held = (over: Partial<DdnsState>): DdnsState => ({
  holderInstance: 'manager-a',
  holderUrl: 'http://10.0.0.1:8443',
  lastUpdateAt: ago(HOUR),
  lastResult: 'good 192.0.2.1',
  ok: true,
  ...over,
});
const mine = (over: Partial<DdnsState>) => held({ holderInstance: me.instanceId, holderUrl: me.selfUrl, ...over });

describe('dy.fi failover rule', () => {
  const cases: Array<[string, DdnsState | null, boolean | undefined, string]> = [
    ['no state yet: take the name', null, undefined, 'update'],
    [
      'a state row without a holder: take the name',
      held({ holderInstance: null, holderUrl: null }),
      undefined,
      'update',
    ],
    ['another holder: ask whether it answers first', held({}), undefined, 'check-holder'],
    ['another holder that answers: leave it', held({}), true, 'wait'],
    ['another holder that does not answer: take over', held({}), false, 'update'],
    [
      'another holder failing to update (badauth) but alive: it retries, not us',
      held({ ok: false, lastResult: 'badauth', lastUpdateAt: ago(3 * DAY) }),
      true,
      'wait',
    ],
    [
      'another holder alive but 7 days without a refresh: save the name',
      held({ lastUpdateAt: ago(7 * DAY) }),
      true,
      'update',
    ],
    [
      'another holder alive, 6 days since its update: still its job',
      held({ lastUpdateAt: ago(6 * DAY) }),
      true,
      'wait',
    ],
    ['we hold it, updated an hour ago: nothing (dy.fi wants no early updates)', mine({}), undefined, 'wait'],
    ['we hold it, updated 4 days ago: nothing yet', mine({ lastUpdateAt: ago(4 * DAY) }), undefined, 'wait'],
    ['we hold it, 6 days since the update: refresh', mine({ lastUpdateAt: ago(6 * DAY) }), undefined, 'update'],
    [
      'same URL, new instance id (restarted): still ours',
      mine({ holderInstance: 'manager-b-old', lastUpdateAt: ago(6 * DAY) }),
      undefined,
      'update',
    ],
    [
      'we hold it after badauth 10 minutes ago: back off',
      mine({ ok: false, lastResult: 'badauth', lastUpdateAt: ago(10 * 60_000) }),
      undefined,
      'wait',
    ],
    [
      'we hold it after badauth an hour ago: try again',
      mine({ ok: false, lastResult: 'badauth', lastUpdateAt: ago(HOUR) }),
      undefined,
      'update',
    ],
    [
      'we hold it after abuse 2 hours ago: wait a day',
      mine({ ok: false, lastResult: 'abuse', lastUpdateAt: ago(2 * HOUR) }),
      undefined,
      'wait',
    ],
    [
      'we hold it after dnserr 6 minutes ago: try again',
      mine({ ok: false, lastResult: 'dnserr', lastUpdateAt: ago(6 * 60_000) }),
      undefined,
      'update',
    ],
    [
      'we hold it after a network error 2 minutes ago: back off',
      mine({ ok: false, lastResult: 'error: connect ECONNREFUSED', lastUpdateAt: ago(2 * 60_000) }),
      undefined,
      'wait',
    ],
  ];
  for (const [name, state, alive, want] of cases)
    it(name, () => assert.equal(decideDdnsAction(state, me, NOW, alive).kind, want));

  it('refreshes 5 to 6 days after an update, at times spread over that day', () => {
    const offsets = Array.from({ length: 200 }, (_, i) => {
      const at = new Date(Date.UTC(2026, 0, 1) + i * 7_919_000);
      return refreshAt(at).getTime() - at.getTime();
    });
    assert.ok(
      offsets.every((o) => o >= 5 * DAY && o < 6 * DAY),
      'within the window dy.fi asks for',
    );
    const hours = new Set(offsets.map((o) => Math.floor((o - 5 * DAY) / HOUR)));
    assert.ok(hours.size > 18, `spread over the day (${hours.size} distinct hours)`);
  });
});

describe('dy.fi replies', () => {
  const cases: Array<[number, string, { code: string; ok: boolean; address?: string }]> = [
    [200, 'good 192.0.2.7\n', { code: 'good', ok: true, address: '192.0.2.7' }],
    [200, 'nochg\n', { code: 'nochg', ok: true }],
    [401, 'badauth\n', { code: 'badauth', ok: false }],
    [401, '<html>Unauthorized</html>', { code: 'badauth', ok: false }],
    [200, 'nohost', { code: 'nohost', ok: false }],
    [200, 'notfqdn', { code: 'notfqdn', ok: false }],
    [200, 'badip 192.0.2.7', { code: 'badip', ok: false }],
    [200, 'dnserr', { code: 'dnserr', ok: false }],
    [200, 'abuse', { code: 'abuse', ok: false }],
    [503, 'Service Unavailable', { code: 'error', ok: false }],
    [200, '<html>maintenance</html>', { code: 'error', ok: false }],
  ];
  for (const [status, body, want] of cases) {
    it(`${status} ${JSON.stringify(body)}`, () => {
      const got = parseDyfiReply(status, body);
      assert.deepEqual({ code: got.code, ok: got.ok, ...(got.address ? { address: got.address } : {}) }, want);
    });
  }
});

describe('dy.fi configuration', () => {
  const schema = z.object(ddnsConfigShape);
  const account = (env: Record<string, string>) =>
    dyfiFromConfig(loadConfig(schema, { env, envAliases: DDNS_ENV_ALIASES }));

  it('is off when nothing is set', () => assert.equal(account({}), undefined));
  it("reads dy.fi's own variable names, with the default update URL", () =>
    assert.deepEqual(account({ DYFI_DOMAIN: 'Hopmap.dy.fi', DYFI_USER: 'ops@example.org', DYFI_PASS: 's3cret' }), {
      url: 'https://www.dy.fi/nic/update',
      domain: 'hopmap.dy.fi',
      user: 'ops@example.org',
      pass: 's3cret',
    }));
  it('names what is missing', () =>
    assert.throws(() => account({ DYFI_DOMAIN: 'hopmap.dy.fi' }), /dyfi_user, dyfi_pass: required with dynamic DNS/));
  it('refuses a name outside .dy.fi', () =>
    assert.throws(() => account({ DYFI_DOMAIN: 'hopmap.example.org' }), /DYFI_DOMAIN: expected a name under \.dy\.fi/));
});
