import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../src/version.js';
import { listenOn, upstreamsOn } from '../support/nginx.js';
import { needs } from '../support/needs.js';

const skip = needs('nginx');

const run = promisify(execFile);
const DEPLOY = join(PROJECT_ROOT, 'deploy/nginx');
const conf = readFileSync(join(DEPLOY, 'hopmap.conf'), 'utf8');
const example = readFileSync(join(DEPLOY, 'upstreams.example.conf'), 'utf8');

/** The `location` blocks of the server listening on `port`: path → its proxy_next_upstream conditions. */
function retriesOf(text: string, port: number): Map<string, string[]> {
  const body = text.replace(/#.*$/gm, '');
  const server = [...body.matchAll(/server\s*\{([\s\S]*?)\n\}/g)]
    .map((m) => m[1]!)
    .find((s) => new RegExp(`listen\\s+${port}\\s*;`).test(s));
  assert.ok(server, `a server listens on ${port}`);
  const out = new Map<string, string[]>();
  for (const m of server.matchAll(/location\s+([^{]+?)\s*\{([^}]*)\}/g)) {
    out.set(m[1]!, /proxy_next_upstream\s+([^;]+);/.exec(m[2]!)?.[1]!.split(/\s+/) ?? []);
  }
  return out;
}

describe('deploy/nginx', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopmap-nginx-t-'));
  after(() => rm(dir, { recursive: true, force: true }));

  it('nginx -t accepts hopmap.conf with the example upstreams, and refuses it without them', async () => {
    const http = (upstreams: string) => listenOn(conf, { 8080: 18080, 8081: 18081, 8443: 18443 }) + upstreams;
    const main = (body: string) =>
      `pid ${dir}/nginx.pid; error_log ${dir}/error.log; events {} http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};\n${body}\n}`;
    const test = async (body: string) => {
      writeFileSync(join(dir, 'nginx.conf'), main(body));
      return run('nginx', ['-t', '-q', '-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')]).then(
        () => 'ok',
        (err: { stderr?: string }) => `failed: ${err.stderr ?? ''}`,
      );
    };
    assert.equal(await test(http(example)), 'ok');
    assert.match(await test(http('')), /host not found in upstream "hopmap_/);
  });

  it('the example upstreams take a failed server out for a while and keep connections to the instances alive', () => {
    for (const name of ['hopmap_input', 'hopmap_output', 'hopmap_manager']) {
      const block = new RegExp(`upstream\\s+${name}\\s*\\{([^}]*)\\}`).exec(example)?.[1];
      assert.ok(block, `upstream ${name}`);
      const servers = [...block.matchAll(/^\s*server\s+([^;]+);/gm)].map((m) => m[1]!);
      assert.ok(servers.length >= 2, `${name} has 2 or more instances`);
      for (const s of servers) assert.match(s, /max_fails=[1-9]\d* fail_timeout=\d+s/, `${name}: ${s}`);
      assert.match(block, /keepalive\s+\d+;/);
    }
    // The test's own upstream file keeps those parameters with its ports.
    const local = upstreamsOn(example, { hopmap_input: [1, 2], hopmap_output: [3, 4], hopmap_manager: [5, 6] });
    assert.match(
      local,
      /server 127\.0\.0\.1:5 max_fails=1 fail_timeout=5s;\n\s*server 127\.0\.0\.1:6 max_fails=1 fail_timeout=5s;\n\s*keepalive 16;/,
    );
  });

  it('sends a POST to the other instance only where the service de-duplicates it', () => {
    const input = retriesOf(conf, 8080);
    const output = retriesOf(conf, 8081);
    const manager = retriesOf(conf, 8443);
    assert.ok(input.get('/')!.includes('non_idempotent'), 'POST /hops: addresses are added once');
    assert.ok(output.get('/')!.includes('non_idempotent'), 'POST /results: stored once per result id');
    for (const [path, on] of [
      ...manager,
      ...[...output].filter(([p]) => p !== '/'),
      ...[...input].filter(([p]) => p !== '/'),
    ]) {
      assert.ok(!on.includes('non_idempotent'), `${path} is not repeated: its POSTs are not idempotent`);
    }
    // A login step repeated on the other instance would present a used TOTP code.
    assert.deepEqual(manager.get('/'), ['error', 'timeout', 'http_502', 'http_503']);
    for (const [path, on] of [...input, ...output, ...manager])
      assert.ok(on.includes('error'), `${path} moves on when an instance is gone`);
  });
});
