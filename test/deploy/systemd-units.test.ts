import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { workerConfig } from '../../src/worker/worker-config.js';
import { PROJECT_ROOT } from '../../src/version.js';
import { assertNoLeaks } from '../support/leaks.js';
import {
  instanceName,
  makeFakeRoot,
  parseUnit,
  readUnit,
  securityRating,
  timeSpanMs,
  unitFiles,
  verifyUnit,
} from './systemd-verify.js';
import { needs } from '../support/needs.js';

const skip = needs('systemd-analyze');

const run = promisify(execFile);
const UNITS = unitFiles();
// The worker's units; the services' own checks are in service-units.test.ts.
const PING_UNITS = UNITS.filter((f) => f.startsWith('hopmap-ping'));
const fake = makeFakeRoot();

after(async () => {
  fake.remove();
  await assertNoLeaks();
});

describe('systemd units', { skip }, () => {
  it('ships the single worker and the template', () => {
    for (const unit of ['hopmap-ping.service', 'hopmap-ping@.service'])
      assert.ok(UNITS.includes(unit), `systemd/${unit}`);
  });

  for (const file of UNITS) {
    it(`${file}: systemd-analyze verify accepts it`, async () => {
      const { ok, output } = await verifyUnit(fake.root, file, readUnit(file));
      assert.ok(ok, `systemd-analyze verify ${instanceName(file)}:\n${output}`);
    });
  }

  // The same check must reject a broken copy, or its passing above means nothing.
  const breakages: Array<[string, (text: string) => string]> = [
    ['a misspelled directive', (t) => t.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes')],
    ['a value systemd cannot parse', (t) => t.replace('Restart=on-failure', 'Restart=on-failur')],
    ['a relative WorkingDirectory', (t) => t.replace('WorkingDirectory=/opt/hopmap', 'WorkingDirectory=opt/hopmap')],
    ['a directive in the wrong section', (t) => t.replace('[Install]\n', '[Install]\nRestartSec=5\n')],
  ];
  for (const file of UNITS) {
    for (const [what, breakIt] of breakages) {
      it(`${file}: verify rejects a copy with ${what}`, async () => {
        const broken = breakIt(readUnit(file));
        assert.notEqual(broken, readUnit(file), 'the breakage applies to this unit');
        const { ok, output } = await verifyUnit(fake.root, file, broken);
        assert.ok(!ok, `a broken ${file} passed verify:\n${output}`);
      });
    }
    it(`${file}: verify rejects it where ExecStart's binary is missing`, async () => {
      const noNode = makeFakeRoot({ node: false });
      try {
        const { ok, output } = await verifyUnit(noNode.root, file, readUnit(file));
        assert.ok(!ok);
        assert.match(output, /\/usr\/bin\/node is not executable/);
      } finally {
        noNode.remove();
      }
    });
  }

  for (const file of PING_UNITS) {
    it(`${file}: runs unprivileged with CAP_NET_RAW only, in a tight sandbox`, () => {
      const unit = parseUnit(readUnit(file));
      const one = (key: string) => {
        const values = unit.get(key);
        assert.equal(values?.length, 1, `${key} is set once`);
        return values[0]!;
      };
      assert.equal(one('User'), 'hopmap');
      assert.equal(one('AmbientCapabilities'), 'CAP_NET_RAW');
      assert.equal(one('CapabilityBoundingSet'), 'CAP_NET_RAW');
      for (const key of [
        'NoNewPrivileges',
        'ProtectHome',
        'PrivateTmp',
        'PrivateDevices',
        'ProtectKernelTunables',
        'ProtectKernelModules',
        'ProtectControlGroups',
        'RestrictNamespaces',
        'LockPersonality',
      ]) {
        assert.equal(one(key), 'yes', key);
      }
      assert.equal(one('ProtectSystem'), 'strict');
      assert.equal(one('RestrictAddressFamilies'), 'AF_INET AF_INET6 AF_UNIX AF_NETLINK');
      assert.equal(one('MemoryDenyWriteExecute'), 'no', 'V8 needs W+X pages');
      assert.equal(one('SystemCallArchitectures'), 'native');
      assert.equal(one('Restart'), 'on-failure');
      assert.equal(one('RestartSec'), '5');
      assert.equal(one('KillSignal'), 'SIGTERM');
      assert.equal(one('WorkingDirectory'), '/opt/hopmap');
      assert.equal(one('ConfigurationDirectory'), 'hopmap');
      assert.ok(unit.get('Environment')?.includes('NODE_ENV=production'));
      assert.ok(
        unit.get('Wants')?.includes('network-online.target') && unit.get('After')?.includes('network-online.target'),
      );
      assert.equal(one('WantedBy'), 'multi-user.target');
    });

    it(`${file}: gives the worker's shutdown flush time to finish before SIGKILL`, () => {
      const flushMs = workerConfig.shape.shutdownFlush.parse(undefined);
      const stopMs = timeSpanMs(parseUnit(readUnit(file)).get('TimeoutStopSec')?.[0] ?? 'missing');
      assert.ok(stopMs > flushMs, `TimeoutStopSec ${stopMs} ms must exceed the default shutdown_flush ${flushMs} ms`);
    });

    it(`${file}: systemd rates its sandbox OK`, async () => {
      const { exposure, label, output } = await securityRating(fake.root, file);
      assert.ok(['SAFE', 'OK'].includes(label), `exposure ${exposure} ${label}:\n${output}`);
    });
  }

  it('hopmap-ping.service runs the worker on /etc/hopmap/ping.yaml and spools into its state directory', () => {
    const unit = parseUnit(readUnit('hopmap-ping.service'));
    assert.deepEqual(unit.get('ExecStart'), [
      '/usr/bin/node /opt/hopmap/bin/hopmap.js ping --config /etc/hopmap/ping.yaml',
    ]);
    assert.deepEqual(unit.get('StateDirectory'), ['hopmap']);
    assert.ok(unit.get('Environment')?.includes('HOPMAP_SPOOL_DIR=/var/lib/hopmap/spool'));
  });

  it('hopmap-ping@NAME reads ping-NAME.yaml and keeps its own state directory', () => {
    const unit = parseUnit(readUnit('hopmap-ping@.service'));
    assert.deepEqual(unit.get('ExecStart'), [
      '/usr/bin/node /opt/hopmap/bin/hopmap.js ping --config /etc/hopmap/ping-%i.yaml',
    ]);
    assert.deepEqual(unit.get('StateDirectory'), ['hopmap/%i']);
    assert.ok(unit.get('Environment')?.includes('HOPMAP_SPOOL_DIR=/var/lib/hopmap/%i/spool'));
  });

  // What the unit grants, applied with setpriv to an unprivileged user: enough for the worker's raw
  // socket, and nothing else would be (the control without the capability must fail).
  it(
    'CAP_NET_RAW alone lets an unprivileged user open the raw ICMP socket',
    { skip: process.getuid?.() !== 0 && 'needs root to switch users' },
    async () => {
      const caps = parseUnit(readUnit('hopmap-ping.service'))
        .get('AmbientCapabilities')![0]!
        .split(/\s+/)
        .map((c) => c.replace(/^CAP_/, '').toLowerCase());
      const script = `const { IcmpSocket } = await import(${JSON.stringify(pathToFileURL(join(PROJECT_ROOT, 'src/probe/icmp-socket.ts')).href)}); IcmpSocket.open().close(); console.log('opened');`;
      const openAs = (capArgs: string[]) =>
        run(
          'setpriv',
          [
            '--reuid=nobody',
            '--regid=nogroup',
            '--clear-groups',
            '--no-new-privs',
            ...capArgs,
            process.execPath,
            '--import',
            'tsx',
            '--input-type=module',
            '-e',
            script,
          ],
          { cwd: PROJECT_ROOT },
        ).then(
          ({ stdout }) => stdout.trim(),
          (err: { stderr?: string }) => `failed: ${err.stderr ?? ''}`,
        );
      const set = caps.map((c) => `+${c}`).join(',');
      assert.equal(
        await openAs([`--inh-caps=${set}`, `--ambient-caps=${set}`, `--bounding-set=-all,${set}`]),
        'opened',
      );
      assert.match(await openAs(['--bounding-set=-all']), /failed: .*needs root or CAP_NET_RAW/s);
    },
  );
});
