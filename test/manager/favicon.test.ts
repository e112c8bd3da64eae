import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { managerService } from '../../src/manager/manager-service.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { request } from '../support/http-client.js';
import { assertNoLeaks } from '../support/leaks.js';
import { createTestDatabase, quietLog, type TestDatabase } from '../support/test-databases.js';
import { needs } from '../support/needs.js';

const skip = needs('database');

describe('the manager’s icon: /favicon.ico and the pages’ <link rel="icon">', { skip }, () => {
  let db: TestDatabase;
  let manager: RunningService;

  before(async () => {
    db = await createTestDatabase('manager_favicon');
    manager = await startService(managerService({ serverKey: randomBytes(32) }), {
      databaseUrl: db.url,
      host: '127.0.0.1',
      port: 0,
      log: quietLog,
    });
  });

  after(async () => {
    await manager?.stop();
    await db?.drop();
    await assertNoLeaks();
  });

  it('/favicon.ico answers 200 with a 16x16 32-bit ICO, cacheable, without a session', async () => {
    const res = await fetch(`${manager.url}/favicon.ico`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/x-icon');
    assert.match(res.headers.get('cache-control') ?? '', /max-age=86400/);
    assert.equal(res.headers.get('set-cookie'), null, 'an icon starts no session');
    const ico = Buffer.from(await res.arrayBuffer());
    // ICONDIR: reserved 0, type 1 (icon), one image; its entry: 16x16, 32 bits, the image right after.
    assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2), ico.readUInt16LE(4)], [0, 1, 1]);
    assert.deepEqual([ico[6], ico[7], ico.readUInt16LE(12), ico.readUInt32LE(18)], [16, 16, 32, 22]);
    assert.equal(ico.readUInt32LE(14), ico.length - 22, 'the entry gives the image size');
    assert.deepEqual(
      [ico.readUInt32LE(22), ico.readInt32LE(26), ico.readInt32LE(30)],
      [40, 16, 32],
      'BITMAPINFOHEADER',
    );
    const alpha = (x: number, y: number) => ico[22 + 40 + ((15 - y) * 16 + x) * 4 + 3]!;
    assert.equal(alpha(0, 0), 0, 'a rounded corner is transparent');
    assert.equal(alpha(8, 8), 255, 'the middle is drawn');
  });

  it('every page links the SVG icon, which /static serves', async () => {
    const login = await request(`${manager.url}/login`);
    assert.match(login.text, /<link rel="icon" href="\/static\/favicon\.svg" type="image\/svg\+xml">/);
    const svg = await request(`${manager.url}/static/favicon.svg`);
    assert.equal(svg.status, 200);
    assert.match(String(svg.headers['content-type']), /^image\/svg\+xml/);
    assert.match(svg.text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });
});
