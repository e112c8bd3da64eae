import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { outputService } from '../../src/output/output-service.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import type { RouteChangeView, SpanView } from '../../src/results/route-history.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const MIN = 60_000;
const T = '198.19.9.9';
const VIA_B = ['198.18.0.2', '198.18.0.6', '198.18.0.10', T];
const VIA_C = ['198.18.0.2', '198.18.0.14', '198.18.0.18', '198.18.0.22', T];
const hopsOf = (path: string[]) => path.map((a) => [a]);

describe('hopmap output: route history (paths, spans and route changes)', { skip }, () => {
  let db: TestDatabase;
  let a: RunningService;
  let b: RunningService;
  let client: pg.Client;

  before(async () => {
    db = await createTestDatabase('route_changes');
    const start = () =>
      startService(outputService({ ...outputWiring, auth: 'off' }), {
        databaseUrl: db.url,
        host: '127.0.0.1',
        port: 0,
        healthPort: 0,
        log: quietLog,
      });
    [a, b] = await Promise.all([start(), start()]);
    client = new pg.Client(db.url);
    await client.connect();
  });

  after(async () => {
    await client?.end();
    await Promise.all([a?.stop(), b?.stop()]);
    await db?.drop();
    await assertNoLeaks();
  });

  const changes = async (query: string) => {
    const res = await request(`${a.url}/routes/changes?${query}`);
    assert.equal(res.status, 200, res.text);
    return res.json<{ changes: RouteChangeView[]; next: number | null }>();
  };

  it('a route that moves and moves back: two changes, each with the path before and after, and the path at any time', async () => {
    const w = 'w-move';
    const seq = [
      traceResult(T, VIA_B, { worker: w, atMs: 0 }),
      traceResult(T, VIA_B, { worker: w, atMs: MIN }),
      traceResult(T, VIA_C, { worker: w, atMs: 2 * MIN }),
      traceResult(T, VIA_C, { worker: w, atMs: 3 * MIN }),
      traceResult(T, VIA_B, { worker: w, atMs: 4 * MIN }),
    ];
    let total = 0;
    for (const [i, r] of seq.entries()) {
      const res = await postJson(`${i % 2 ? a.url : b.url}/results`, r);
      assert.equal(res.status, 200, res.text);
      total += res.json().route_changes;
    }
    assert.equal(total, 2, 'the posts that showed a new path say so');

    const { changes: got } = await changes(`worker=${w}`);
    assert.equal(got.length, 2);
    const [away, back] = got as [RouteChangeView, RouteChangeView];
    assert.deepEqual(away.before.hops, hopsOf(VIA_B));
    assert.deepEqual(away.after.hops, hopsOf(VIA_C));
    assert.equal(away.diverge_ttl, 2);
    assert.equal(away.before.observations, 2);
    assert.equal(Date.parse(away.before_last_seen_at), Date.parse(seq[1]!.started_at));
    assert.equal(Date.parse(away.after_first_seen_at), Date.parse(seq[2]!.started_at));
    assert.equal(away.result_id, seq[2]!.id);
    assert.deepEqual(back.before.hops, hopsOf(VIA_C));
    assert.deepEqual(back.after.hops, hopsOf(VIA_B));
    assert.equal(back.before.span_id, away.after.span_id, 'the spans chain');
    assert.equal(back.after.observations, 1);

    const pathAt = async (ms: number) => {
      const at = new Date(Date.parse(seq[0]!.started_at) + ms).toISOString();
      const res = await request(`${b.url}/routes/path?worker=${w}&target=${T}&at=${encodeURIComponent(at)}`);
      assert.equal(res.status, 200, res.text);
      return res.json<{ routes: SpanView[] }>().routes;
    };
    assert.deepEqual(await pathAt(-MIN), [], 'nothing known before the first trace');
    assert.deepEqual(
      (await pathAt(MIN + 1)).map((r) => r.hops),
      [hopsOf(VIA_B)],
    );
    assert.deepEqual(
      (await pathAt(2.5 * MIN)).map((r) => r.hops),
      [hopsOf(VIA_C)],
    );
    assert.deepEqual(
      (await pathAt(10 * MIN)).map((r) => [r.hops, r.flow, r.method]),
      [[hopsOf(VIA_B), 4242, 'icmp-paris']],
    );

    const { rows } = await client.query(
      `select count(*)::int as n from paths where hops = $1::jsonb or hops = $2::jsonb`,
      [JSON.stringify(hopsOf(VIA_B)), JSON.stringify(hopsOf(VIA_C))],
    );
    assert.equal(rows[0].n, 2, 'each distinct path is stored once');
  });

  it('one batch in any order gives the same history as one trace at a time; a late trace older than the route changes nothing', async () => {
    const w = 'w-batch';
    const seq = [VIA_B, VIA_B, VIA_C, VIA_C, VIA_B].map((p, i) => traceResult(T, p, { worker: w, atMs: i * MIN }));
    const res = await postJson(`${a.url}/results`, [seq[3], seq[0], seq[4], seq[2], seq[1]]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json().route_changes, 2);
    const { changes: got } = await changes(`worker=${w}`);
    assert.deepEqual(
      got.map((c) => [c.before.hops.length, c.after.hops.length, c.result_id]),
      [
        [4, 5, seq[2]!.id],
        [5, 4, seq[4]!.id],
      ],
    );

    const late = traceResult(T, VIA_C, { worker: w, atMs: 30_000 });
    assert.equal((await postJson(`${b.url}/results`, late)).json().route_changes, 0);
    assert.equal((await changes(`worker=${w}`)).changes.length, 2);
  });

  it('a silent router that starts answering, and a trace cut short, are the same route; flows are routes of their own', async () => {
    const w = 'w-same';
    const silent = ['198.18.0.2', null, '198.18.0.10', T];
    const seq = [
      traceResult(T, silent, { worker: w, atMs: 0 }),
      traceResult(T, VIA_B, { worker: w, atMs: MIN }),
      traceResult(T, ['198.18.0.2', '198.18.0.6', null, null], { worker: w, atMs: 2 * MIN }),
      traceResult(T, VIA_C, { worker: w, atMs: 0, flow: 777 }),
    ];
    for (const r of seq) assert.equal((await postJson(`${a.url}/results`, r)).json().route_changes, 0);
    const { routes } = (await request(`${a.url}/routes/path?worker=${w}&target=${T}`)).json<{ routes: SpanView[] }>();
    assert.deepEqual(
      routes.map((r) => [r.flow, r.observations, r.hops]),
      [
        [777, 1, hopsOf(VIA_C)],
        [4242, 3, hopsOf(VIA_B)],
      ],
      'the span keeps the most complete picture',
    );
  });

  it('a multipath route gathers its branches: a trace that misses one is no change, one through other interfaces is', async () => {
    const w = 'w-mda';
    const mda = (branches: string[][], atMs: number) => {
      const r = traceResult(T, [], { worker: w, atMs });
      return {
        ...r,
        type: 'multipath',
        method: 'udp-paris',
        confidence: 0.95,
        reached: true,
        probes_sent: 40,
        hops: branches.map((interfaces, i) => ({ ttl: i + 1, interfaces, flows: 6, silent: 0, rtts_us: {} })),
        links: [] as string[][],
        flow: undefined,
        stop: undefined,
      };
    };
    const both = [['198.18.0.2'], ['198.18.0.14', '198.18.0.6'], [T]]; // sorted as strings: a canonical form, not numeric order
    const seq = [
      mda([['198.18.0.2'], ['198.18.0.6'], [T]], 0),
      mda(both, MIN),
      mda([['198.18.0.2'], ['198.18.0.14'], [T]], 2 * MIN),
      mda([['198.18.0.2'], ['198.18.0.30'], [T]], 3 * MIN),
    ];
    const res = await postJson(`${a.url}/results`, seq);
    assert.equal(res.status, 200, res.text);
    const { changes: got } = await changes(`worker=${w}`);
    assert.equal(got.length, 1, 'only the trace through other interfaces is a change');
    assert.deepEqual(got[0]!.before.hops, both, 'the picture before it has both branches');
    assert.equal(got[0]!.before.observations, 3);
    assert.equal(got[0]!.flow, -1);
    assert.deepEqual(got[0]!.after.hops, [['198.18.0.2'], ['198.18.0.30'], [T]]);
  });

  it('two instances ingesting the same routes at once keep one consistent chain of spans per route', async () => {
    const routes = 40;
    const perRoute = 12;
    const items = [];
    for (let r = 0; r < routes; r++) {
      for (let k = 0; k < perRoute; k++)
        items.push(
          traceResult(
            `198.19.10.${r}`,
            (k >> 1) % 2 ? VIA_C.slice(0, -1).concat(`198.19.10.${r}`) : VIA_B.slice(0, -1).concat(`198.19.10.${r}`),
            { worker: 'w-race', atMs: k * MIN },
          ),
        );
    }
    const posts = items.map((item, i) => postJson(`${i % 2 ? a.url : b.url}/results`, item));
    const answers = await Promise.all(posts);
    assert.deepEqual(
      answers.filter((r) => r.status !== 200).map((r) => r.text),
      [],
    );
    const { rows } = await client.query<{
      spans: number;
      changes: number;
      chained: boolean;
      current_is_last: boolean;
      observations: number;
      overlap: number;
    }>(
      `select count(*)::int as spans,
              (select count(*) from route_changes c where c.worker = 'w-race' and c.target = s.target)::int as changes,
              bool_and(s.first_seen_at <= s.last_seen_at) as chained,
              bool_or(s.id = (select span_id from route_current rc where rc.worker = 'w-race' and rc.target = s.target and rc.flow = s.flow)) as current_is_last,
              sum(s.observations)::int as observations,
              (select count(*) from route_spans x join route_spans y on x.target = y.target and x.worker = y.worker and x.id < y.id
                 where x.worker = 'w-race' and x.target = s.target and tstzrange(x.first_seen_at, x.last_seen_at, '[]') && tstzrange(y.first_seen_at, y.last_seen_at, '[]'))::int as overlap
         from route_spans s where s.worker = 'w-race' group by s.target`,
    );
    assert.equal(rows.length, routes);
    for (const r of rows) {
      assert.equal(r.changes, r.spans - 1, 'every span after the first began with a change');
      assert.ok(r.chained && r.current_is_last);
      assert.equal(r.overlap, 0, 'spans of one route never overlap in time');
      assert.ok(r.observations <= perRoute);
    }
  });

  it("serves the map's route-history API on both ports; /routes/* are its older names, `after` the older `cursor`", async () => {
    const w = 'w-move';
    const get = async (url: string) => {
      const res = await request(url);
      assert.equal(res.status, 200, `${url}: ${res.text}`);
      return res.json();
    };
    for (const base of [a.url, a.healthUrl!]) {
      const all = await get(`${base}/api/map/changes?worker=${w}`);
      assert.deepEqual(await get(`${base}/routes/changes?worker=${w}`), all, 'the same answer');
      assert.equal(all.changes.length, 2);
      const first = await get(`${base}/api/map/changes?worker=${w}&limit=1`);
      for (const query of [`cursor=${first.next}`, `after=${first.next}`]) {
        for (const path of ['/api/map/changes', '/routes/changes'])
          assert.deepEqual(
            (await get(`${base}${path}?worker=${w}&limit=1&${query}`)).changes,
            all.changes.slice(1),
            `${path}?${query}`,
          );
      }
      const both = await request(`${base}/api/map/changes?cursor=1&after=1`);
      assert.equal(both.status, 400);
      assert.match(both.json().error.message, /query\.after/);

      const older = await get(`${base}/routes/path?worker=${w}&target=${T}`);
      const canonical = await get(`${base}/api/map/path?worker=${w}&target=${T}&at=${encodeURIComponent(older.at)}`);
      assert.deepEqual(
        older.routes.map((r: SpanView) => r.hops),
        [hopsOf(VIA_B)],
        '/routes/path keeps hops as stored',
      );
      assert.deepEqual(
        canonical.routes.map((r: { hops: Array<{ addresses: Array<{ address: string }> }> }) =>
          r.hops.map((h) => h.addresses.map((x) => x.address)),
        ),
        [hopsOf(VIA_B)],
        '/api/map/path: the same route, each address with its AS',
      );
      assert.deepEqual(canonical.routes[0].hops[0], {
        ttl: 1,
        addresses: [{ address: VIA_B[0], asn: null, as_org: null }],
      });
    }
  });

  it('bad queries are 400 and name the field', async () => {
    const bad = await request(`${a.url}/routes/path?worker=w1&target=not-an-ip`);
    assert.equal(bad.status, 400);
    assert.match(bad.json().error.message, /query\.target: not an IPv4 or IPv6 address/);
    const unknown = await request(`${a.url}/routes/changes?colour=red`);
    assert.equal(unknown.status, 400);
    assert.match(unknown.json().error.message, /colour/);
    const since = await request(`${a.url}/routes/changes?since=yesterday`);
    assert.equal(since.status, 400);
    assert.match(since.json().error.message, /query\.since/);
    const page = await changes('limit=1');
    assert.equal(page.changes.length, 1);
    const rest = await changes(`after=${page.next}`);
    assert.ok(
      rest.changes.every((c) => c.id > page.next!),
      'the next page starts after the cursor',
    );
  });
});
