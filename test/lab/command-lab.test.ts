import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/lab/run-ip.js';
import { labNamespaces, teardownLab } from '../../src/lab/teardown-lab.js';
import { assertNoLeaks } from '../support/leaks.js';
import { spawnNode } from '../support/spawn-process.js';
import { removeStaleTestLabs, testLabName } from './test-lab-name.js';
import { needs } from '../support/needs.js';

const skip = needs('root', 'ip', 'ping');

const TAG = 'tcli';
const NAME = testLabName(TAG);

async function hopmap(...args: string[]): Promise<{ code: number | null; output: string }> {
  const p = spawnNode(['bin/hopmap.js', 'lab', ...args]);
  const { code } = await p.exited;
  return { code, output: p.output() };
}

describe('hopmap lab', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'hopmap-lab-'));
  before(() => removeStaleTestLabs(TAG));

  after(async () => {
    await teardownLab(NAME);
    rmSync(dir, { recursive: true, force: true });
    await assertNoLeaks();
  });

  it('truth prints the nodes, the links and, given --from and --to, one hop sequence per branch', async () => {
    const [text, json] = await Promise.all([
      hopmap('truth', 'lab/diamond.yaml', '--from', 'probe', '--to', '198.19.100.9'),
      hopmap('truth', 'lab/diamond.yaml', '--json'),
    ]);
    assert.equal(text.code, 0, text.output);
    assert.match(
      text.output,
      /^ {2}r5 +router \(silent\) +hm-diamond-r5 +to-r4 198\.18\.0\.26\/30, to-target 198\.18\.0\.29\/30$/m,
    );
    assert.match(text.output, /^ {2}r2 - r3a +198\.18\.0\.9 - 198\.18\.0\.10 +198\.18\.0\.8\/30$/m);
    assert.match(
      text.output,
      /traceroute probe -> 198\.19\.100\.9: 2 path\(s\)\n {2}198\.18\.0\.2 {2}198\.18\.0\.6 {2}198\.18\.0\.10 {2}198\.18\.0\.18 {2}\* {2}198\.19\.100\.9\n {2}198\.18\.0\.2 {2}198\.18\.0\.6 {2}198\.18\.0\.14 {2}198\.18\.0\.22 {2}\* {2}198\.19\.100\.9\n/,
    );
    assert.equal(json.code, 0, json.output);
    const parsed = JSON.parse(json.output);
    assert.equal(parsed.links.length, 8);
    assert.deepEqual(parsed.nodes.find((n: { name: string }) => n.name === 'target').lo, ['198.19.100.0/24']);
  });

  it('a bad topology exits 2 naming the file and the place', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: bad\nnodes: { a: host, r: router }\nlinks: [[a, r], [r, z]]\n');
    const res = await hopmap('truth', file);
    assert.equal(res.code, 2, res.output);
    assert.equal(res.output, `hopmap: ${file}: links[1][1]: unknown node "z" (nodes: a, r)\n`);
  });

  it('up builds the lab under --name, and down removes it', async () => {
    const up = await hopmap('up', 'lab/chain.yaml', '--name', NAME);
    assert.equal(up.code, 0, up.output);
    assert.match(up.output, new RegExp(`lab ${NAME}: 6 namespaces built in \\d+ ms`));
    assert.match(up.output, new RegExp(`ip netns exec hm-${NAME}-probe ping -c1 198\\.19\\.1\\.1\\n`));
    assert.equal(labNamespaces(NAME).length, 6);
    const ping = await run('ip', ['netns', 'exec', `hm-${NAME}-probe`, 'ping', '-n', '-c1', '-W1', '198.19.1.1']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);

    const down = await hopmap('down', 'lab/chain.yaml', '--name', NAME);
    assert.equal(down.code, 0, down.output);
    assert.match(down.output, new RegExp(`lab ${NAME}: removed hm-${NAME}-probe hm-${NAME}-r1 `));
    assert.deepEqual(labNamespaces(NAME), []);
    const again = await hopmap('down', 'lab/chain.yaml', '--name', NAME);
    assert.equal(again.output, `lab ${NAME}: nothing to remove\n`);
  });
});
