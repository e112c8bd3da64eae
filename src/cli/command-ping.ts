import { Command } from 'commander';
import { loadCommandConfig } from '../config/common-config.js';
import { createLogger } from '../log/create-logger.js';
import { Lifecycle } from '../process/lifecycle.js';
import { runWorker } from '../worker/run-worker.js';
import { workerConfig } from '../worker/worker-config.js';
import { runCommand } from './run-command.js';

export function pingCommand(): Command {
  const cmd = new Command('ping')
    .description(
      'the probe worker: fetches targets, pings and traceroutes them, delivers results (needs CAP_NET_RAW for ICMP)',
    )
    .option('-c, --config <file>', 'YAML config (see config.example.yaml); unknown keys are errors')
    .option('--input-file <spec>', 'targets: input service URL, unix:///path, or a file of addresses')
    .option('--output-file <spec>', 'results: output service URL, unix:///path, or a file (NDJSON)')
    .option('--worker-id <id>', "this worker's id (default: hostname)")
    .option('--api-key <key>', 'bearer token for the input and output services')
    .option('--pps <n>', 'hard cap on probe packets per second (default 100)')
    .option('--concurrency <n>', 'targets measured at once (default 16)')
    .option('--health-check-port <port>', 'health server port (default 8090)')
    .option('--health-check-host <host>', 'health server address (default 0.0.0.0)')
    .option('--spool-dir <dir>', 'where results wait for delivery (default ./.hopmap/spool)')
    .option('--ping-method <m>', 'auto | icmp | tcp (default auto: ICMP when raw sockets work)')
    .option('--traceroute-method <m>', 'icmp-paris | udp-paris | tcp-syn (default icmp-paris)')
    .option('--traceroute-mode <m>', 'single | multipath (default single)')
    .option('--alias-every <n>', 'alias measurement on one traced target in n, 0 = off (default 10)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--verbose', 'log at debug level');
  cmd.action(
    runCommand(async () => {
      const cfg = loadCommandConfig(cmd, workerConfig);
      const log = createLogger({ level: cfg.verbose ? 'debug' : cfg.logLevel, name: 'ping' });
      const lifecycle = new Lifecycle(log);
      lifecycle.handleSignals();
      await runWorker(cfg, log, lifecycle);
    }),
  );
  return cmd;
}
