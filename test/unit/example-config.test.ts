import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { workerConfig } from '../../src/worker/worker-config.js';

const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

describe('config.example.yaml', () => {
  it('loads as a worker configuration, as a new operator copies it', () => {
    const cfg = loadConfig(workerConfig, { configFile: join(PROJECT_ROOT, 'config.example.yaml'), env: {} });
    // YAML reads the list as numbers; it was refused as "expected string" before.
    assert.deepEqual(cfg.tcpPorts, [443, 80]);
  });

  it('takes ports as a YAML list of numbers, of strings, or one comma-separated string', () => {
    for (const tcpPorts of [[22, 8080], ['22', '8080'], '22, 8080']) {
      assert.deepEqual(workerConfig.shape.tcpPorts.parse(tcpPorts), [22, 8080]);
    }
    assert.throws(() => workerConfig.shape.tcpPorts.parse([0]));
    assert.throws(() => workerConfig.shape.tcpPorts.parse([]));
  });
});
