import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DATA_CREDIT_TEXT } from '../../src/map/enrich/data-credit.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { createTestDatabase, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

const BIN = join(PROJECT_ROOT, 'bin/hopmap.js');

describe('hopmap enrich', { skip }, () => {
  let db: TestDatabase;

  before(async () => {
    db = await createTestDatabase('enrich_command');
  });

  after(async () => {
    await db?.drop();
    await assertNoLeaks();
  });

  async function hopmap(...args: string[]): Promise<{ code: number | null; output: string; stdout: string }> {
    const p = spawnNode([BIN, 'enrich', ...args], { DATABASE_URL: db.url });
    let stdout = '';
    p.child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    const { code } = await p.exited;
    return { code, output: p.output(), stdout };
  }

  it('lookup says nothing is loaded yet, but still gives the kind', async () => {
    const r = await hopmap('lookup', '8.8.8.8', '192.168.1.1');
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /no range data loaded yet; run `hopmap enrich load`/);
    assert.match(r.output, /^8\.8\.8\.8\tpublic\t-\t-\t-$/m);
    assert.match(r.output, /^192\.168\.1\.1\tprivate\t-\t-\t-$/m);
    assert.ok(!r.output.includes('DB-IP'), 'no data shown, no credit');
  });

  it('load loads both packages once; a second load leaves them unchanged', async () => {
    const first = await hopmap('load');
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /^asn: loaded \d{6,} ranges from @ip-location-db\/asn@\S+$/m);
    assert.match(first.output, /^country: loaded \d{6,} ranges from @ip-location-db\/dbip-country@\S+$/m);
    const second = await hopmap('load');
    assert.equal(second.output, 'asn: unchanged\ncountry: unchanged\n');
  });

  it('lookup prints kind, AS, organisation and country, one line per address', async () => {
    const r = await hopmap('lookup', '8.8.8.8', '1.1.1.1', '100.64.0.1');
    assert.equal(r.code, 0, r.output);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      '8.8.8.8\tpublic\tAS15169\tGoogle LLC\tUS',
      '1.1.1.1\tpublic\tAS13335\tCloudflare, Inc.\tAU',
      '100.64.0.1\tshared\t-\t-\t-',
    ]);
    // The data's credit, on stderr so the lines above stay plain to parse.
    assert.deepEqual(
      r.output.split('\n').filter((l) => !r.stdout.includes(l)),
      [DATA_CREDIT_TEXT],
    );
  });

  it('lookup refuses a name that is not an address, exit 1', async () => {
    const r = await hopmap('lookup', 'example.com');
    assert.equal(r.code, 1);
    assert.match(r.output, /not an IPv4 or IPv6 address: example\.com/);
  });
});
