import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputWiring } from '../../src/cli/output-wiring.js';
import type { Pool } from '../../src/db/create-pool.js';

// What `hopmap output` is composed with (docs/architecture.md#wiring-who-composes-a-process): the map's and the
// aliases' jobs run there, once per cron tick across its instances, on the schedules they had when output
// imported them itself.
describe("output wiring: the map's and the aliases' jobs", () => {
  const sets = outputWiring.jobs.map((jobs) => jobs({} as Pool));

  it('are enrich_hops, rebuild_as_links and resolve_routers, each defined once', () => {
    const names = sets.flatMap((s) => Object.keys(s.tasks));
    assert.deepEqual([...names].sort(), ['enrich_hops', 'rebuild_as_links', 'resolve_routers']);
  });

  it('keep their schedules: every minute, every 5 minutes, every minute, one run at a time', () => {
    assert.deepEqual(
      sets.flatMap((s) => s.crontab),
      ['* * * * * enrich_hops ?max=1', '*/5 * * * * rebuild_as_links ?max=1', '* * * * * resolve_routers ?max=1'],
    );
  });

  it('and the route history for admin keys, with its paths behind the admin gate', () => {
    assert.deepEqual(
      outputWiring.adminApis.flatMap((api) => api.paths),
      ['/api/map', '/routes'],
    );
  });
});
