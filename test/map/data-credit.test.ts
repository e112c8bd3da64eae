import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { check } from '@placemarkio/check-geojson';
import { XMLParser } from 'fast-xml-parser';
import pg from 'pg';
import { installedPlugins } from '../../src/cli/installed-plugins.js';
import { outputWiring } from '../../src/cli/output-wiring.js';
import { managerService } from '../../src/manager/manager-service.js';
import { addUser } from '../../src/manager/users/manage-users.js';
import { DATA_ATTRIBUTION, DATA_CREDIT_TEXT } from '../../src/map/enrich/data-credit.js';
import { outputService } from '../../src/output/output-service.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { postJson, request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { traceResult } from '../support/result-factory.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { Browser, codeFor, logIn } from '../manager/manager-browser.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const T1 = '198.19.1.1';
const PATH = ['198.18.0.2', '198.18.0.6', T1];
/** The link DB-IP's licence asks every page showing its data to carry (docs/enrichment.md). */
const DBIP_LINK = '<a href="https://db-ip.com">IP Geolocation by DB-IP</a>';

/** The footer of a page, where the credit goes. */
function footer(page: string): string {
  return /<footer>([\s\S]*?)<\/footer>/.exec(page)?.[1] ?? '';
}

describe(
  'the AS and country data’s credit (DB-IP, RouteViews, NRO; CC BY 4.0) on every page and export showing it',
  { skip },
  () => {
    const serverKey = randomBytes(32);
    let db: TestDatabase;
    let manager: RunningService;
    let output: RunningService;
    const br = new Browser('198.51.100.71');
    const ok = async (path: string) => {
      const res = await br.get(`${manager.url}${path}`);
      assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 500)}`);
      return res;
    };

    before(async () => {
      db = await createTestDatabase('data_credit');
      output = await startService(outputService({ ...outputWiring, auth: 'off' }), {
        databaseUrl: db.url,
        host: '127.0.0.1',
        port: 0,
        log: quietLog,
      });
      manager = await startService(managerService({ serverKey, plugins: installedPlugins }), {
        databaseUrl: db.url,
        host: '127.0.0.1',
        port: 0,
        log: quietLog,
      });
      for (const atMs of [0, 60_000])
        assert.equal(
          (await postJson(`${output.url}/results`, traceResult(T1, PATH, { worker: 'w1', atMs }))).status,
          200,
        );
      const client = new pg.Client(db.url);
      await client.connect();
      await client.query(`insert into address_info (address, kind, asn, as_org, country, data_version) values
      ('198.18.0.2', 'public', 64500, 'Access Net', 'FR', 't'), ('198.18.0.6', 'public', 64501, 'Transit B', 'DE', 't'),
      ('198.19.1.1', 'public', 64502, 'Target Co', 'NL', 't')`);
      await client.end();
      const alice = await addUser(manager.pool, serverKey, 'alice');
      assert.equal((await logIn(br, manager.url, manager.url, 'alice', await codeFor(alice.secret))).status, 303);
    });

    after(async () => {
      await manager?.stop();
      await output?.stop();
      await db?.drop();
      await assertNoLeaks();
    });

    it('one text names every source and the licence', () => {
      for (const part of [
        'IP Geolocation by DB-IP (https://db-ip.com)',
        'Route Views',
        'NRO',
        'Creative Commons Attribution 4.0',
      ])
        assert.ok(DATA_CREDIT_TEXT.includes(part), part);
      assert.deepEqual(
        DATA_ATTRIBUTION.sources.map((s) => s.url),
        ['https://db-ip.com', 'https://www.routeviews.org', 'https://www.nro.net'],
      );
      assert.equal(DATA_ATTRIBUTION.license, 'CC-BY-4.0');
    });

    it('pages: the path explorer with a route, the graph and the world map carry the credit in their footer', async () => {
      for (const path of [`/paths?worker=w1&target=${T1}`, '/map/graph', '/world']) {
        const page = (await ok(path)).text;
        const credit = footer(page);
        assert.ok(credit.includes(DBIP_LINK), `${path}: the DB-IP link in the footer:\n${credit || page.slice(-800)}`);
        assert.match(credit, /href="https:\/\/www\.routeviews\.org"/, path);
        assert.match(credit, /href="https:\/\/www\.nro\.net"/, path);
        assert.match(
          credit,
          /<a href="https:\/\/creativecommons\.org\/licenses\/by\/4\.0\/" rel="license">CC BY 4\.0<\/a>/,
          path,
        );
      }
      const paths = (await ok(`/paths?worker=w1&target=${T1}`)).text;
      assert.match(paths, /AS64501<\/td><td>Transit B<\/td><td>DE</, 'the path page shows the data it credits');
    });

    it('JSON: every level of /api/map/graph, the graph view and /api/map/path carry `attribution`', async () => {
      for (const path of [
        '/api/map/graph',
        '/api/map/graph?level=router',
        '/api/map/graph?level=as',
        '/api/map/graph-view',
        `/api/map/path?worker=w1&target=${T1}`,
      ]) {
        const body = (await ok(path)).json();
        assert.deepEqual(body.attribution, DATA_ATTRIBUTION, path);
      }
      const path = (await ok(`/api/map/path?worker=w1&target=${T1}`)).json();
      assert.equal(path.routes[0].hops[1].addresses[0].as_org, 'Transit B', 'the path shows the data it credits');
    });

    it("the output service's /api/map/path carries it too; its older /routes/path, bare addresses, needs none", async () => {
      const res = await request(`${output.url}/api/map/path?worker=w1&target=${T1}`);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.json().attribution, DATA_ATTRIBUTION);
      const bare = await request(`${output.url}/routes/path?worker=w1&target=${T1}`);
      assert.equal(bare.status, 200, bare.text);
      assert.equal(bare.json().attribution, undefined, 'no AS or country in it');
    });

    it('the database: the ranges and address_info tables carry the credit as their comment, which GET /dump keeps', async () => {
      const c = new pg.Client(db.url);
      await c.connect();
      try {
        for (const table of ['asn_ranges', 'country_ranges', 'address_info']) {
          const { rows } = await c.query<{ comment: string | null }>(
            'select obj_description($1::regclass, $2) as comment',
            [table, 'pg_class'],
          );
          assert.equal(rows[0]!.comment, DATA_CREDIT_TEXT, table);
        }
      } finally {
        await c.end();
      }
    });

    it('GraphML: a <desc> with the credit, at every level, and the document still parses', async () => {
      for (const level of ['interface', 'router', 'as']) {
        const res = await ok(`/api/map/graph?format=graphml&level=${level}`);
        const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(res.text);
        assert.equal(doc.graphml.desc, DATA_CREDIT_TEXT, level);
        assert.ok(doc.graphml.graph, level);
      }
    });

    it('GeoJSON: the FeatureCollection carries `attribution` as a foreign member and is still valid GeoJSON', async () => {
      const res = await ok('/api/map/graph?format=geojson');
      const fc = check(res.text) as unknown as { attribution: unknown; features: unknown[] };
      assert.deepEqual(fc.attribution, DATA_ATTRIBUTION);
      assert.ok(fc.features.length > 0, 'the export shows countries');
    });
  },
);
