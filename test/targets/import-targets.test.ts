import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { importTargets } from '../../src/targets/import-targets.js';
import { writeTargetDir } from '../support/input-fixture.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('importing target files', { skip }, () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let dir: string;

  before(async () => {
    db = await createTestDatabase('import_targets');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    dir = writeTargetDir({
      'one.txt':
        '# comment line\n1.0.0.0/8\n20.1.2.3\n\n20.1.2.0/24 # inline comment\nbogus\n300.1.1.1\n1.2.3.4/33\n20.1.2.7/24\n20.1.2.3\n2001:db8::/32\n',
      'two.txt': '20.1.2.0/24\n30.0.0.0/30\n',
      'ignored.csv': '40.0.0.0/8\n',
    });
  });

  after(async () => {
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  const blocks = async () =>
    (await pool.query(`select source, cidr::text as cidr, active, effective from target_blocks order by source, cidr`))
      .rows;

  it('loads every .txt file, one row per CIDR (a /8 is one row), reporting bad lines as file:line: reason', async () => {
    const s = await importTargets(pool, dir);
    assert.equal(s.files, 2);
    assert.equal(s.blocks, 6);
    assert.equal(s.added, 6);
    assert.equal(s.skipped, 4);
    assert.equal(s.duplicates, 1);
    assert.equal(s.addresses, 2 ** 24 + 1 + 256 + 2 ** 32 + 256 + 4); // IPv6 /32 walks 2^32 /64s
    const one = join(dir, 'one.txt');
    assert.deepEqual(s.errors, [
      `${one}:6: not an IPv4 or IPv6 address or CIDR: "bogus"`,
      `${one}:7: octet 300 is out of range (0-255): "300.1.1.1"`,
      `${one}:8: prefix length 33 is out of range for IPv4 (0-32)`,
      `${one}:9: host bits are set in 20.1.2.7/24; the network is 20.1.2.0/24`,
    ]);
    const { rows } = await pool.query(`select count(*)::int as n from target_blocks where cidr = '1.0.0.0/8'`);
    assert.equal(rows[0].n, 1);
  });

  it('serves an address of overlapping files only once: a block inside another is not effective', async () => {
    const rows = await blocks();
    const byCidr = (source: string, cidr: string) => rows.find((r) => r.source === source && r.cidr === cidr);
    assert.equal(byCidr('one.txt', '20.1.2.0/24')?.effective, true);
    assert.equal(byCidr('one.txt', '20.1.2.3/32')?.effective, false, 'inside 20.1.2.0/24');
    assert.equal(byCidr('two.txt', '20.1.2.0/24')?.effective, false, 'same CIDR as an older row');
    assert.equal(byCidr('two.txt', '30.0.0.0/30')?.effective, true);
  });

  it('adds nothing when the same files are imported again', async () => {
    const before = await blocks();
    const s = await importTargets(pool, dir);
    assert.equal(s.unchanged, 2);
    assert.equal(s.added, 0);
    assert.equal(s.removed, 0);
    assert.deepEqual(await blocks(), before);
  });

  it('reconciles a changed file: removed lines stop being served, new ones start, others stay', async () => {
    writeFileSync(join(dir, 'one.txt'), '1.0.0.0/8\n20.1.2.3\n50.0.0.0/24\n');
    const s = await importTargets(pool, join(dir, 'one.txt'));
    assert.equal(s.added, 1);
    assert.equal(s.removed, 2);
    const rows = await blocks();
    const state = (cidr: string) => rows.find((r) => r.source === 'one.txt' && r.cidr === cidr);
    assert.deepEqual(state('20.1.2.0/24'), { source: 'one.txt', cidr: '20.1.2.0/24', active: false, effective: false });
    assert.equal(state('50.0.0.0/24')?.effective, true);
    // With one.txt's /24 gone, the single address and two.txt's copy of the /24 are served again.
    assert.equal(state('20.1.2.3/32')?.effective, false, "still inside two.txt's 20.1.2.0/24");
    assert.equal(rows.find((r) => r.source === 'two.txt' && r.cidr === '20.1.2.0/24')?.effective, true);
  });

  it('reports a missing path clearly', async () => {
    await assert.rejects(importTargets(pool, join(dir, 'nope')), /nope: no such file or directory/);
  });
});
