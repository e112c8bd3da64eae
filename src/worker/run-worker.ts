import { Counter, Gauge, type Registry } from 'prom-client';
import { makeIdentity } from '../http/service-identity.js';
import { ServiceMetrics } from '../http/service-metrics.js';
import { createServiceApp } from '../http/create-service-app.js';
import { listen } from '../http/listen.js';
import type { Logger } from '../log/create-logger.js';
import { Lifecycle } from '../process/lifecycle.js';
import { AliasProber } from '../probe/alias-probes.js';
import { IcmpSocket, RawSocketUnavailable } from '../probe/icmp-socket.js';
import { OptionsIcmpSocket } from '../probe/options-socket.js';
import { ResponderBudget } from '../probe/responder-budget.js';
import { StopSet, stopSetHealth } from '../probe/stop-set.js';
import { Tracer } from '../probe/tracer.js';
import type { Result } from '../results/result-schema.js';
import { ResultDelivery } from './deliver-results.js';
import { IsolationGuard } from './isolation-guard.js';
import { aliasSchedule } from './measure-aliases.js';
import { measureTarget, pingOnce } from './measure-target.js';
import { networkHealth } from './network-health.js';
import { Pacer } from './pacer.js';
import { ProbeLoop } from './probe-loop.js';
import { ResultLedger, type ResultAccounts } from './result-ledger.js';
import { ResultQuarantine } from './result-quarantine.js';
import { createResultSink } from './result-sinks.js';
import { ResultSpool } from './result-spool.js';
import { resultsAtRisk } from './results-at-risk.js';
import { SilenceWatch } from './silence-watch.js';
import { targetSource } from './target-source.js';
import type { WorkerConfig } from './worker-config.js';

export interface RunningWorker {
  url: string;
  lifecycle: Lifecycle;
  stop(): Promise<boolean>;
}

/**
 * Starts a probe worker: raw sockets if allowed (else TCP pings only, said on /health), the spool and
 * its delivery, the probe loop, and the health server. Stopping lets measurements in flight finish, then
 * flushes results for up to `shutdownFlush` and leaves the rest spooled for the next start.
 */
export async function runWorker(
  cfg: WorkerConfig,
  log: Logger,
  lifecycle = new Lifecycle(log),
): Promise<RunningWorker> {
  const metrics = new ServiceMetrics('ping');
  const sent = metrics.counter('probes_sent_total', 'probe packets sent (pings and traceroute probes)');
  const answered = metrics.counter('probes_answered_total', 'pings answered');
  const results = metrics.counter('results_total', 'results produced', ['type']);
  const fetches = metrics.counter('target_fetches_total', 'target fetches from the input', ['outcome']);

  let tracer: Tracer | null = null;
  let socket: IcmpSocket | null = null;
  let rawSockets: { available: boolean; reason?: string } = { available: true };
  if (cfg.pingMethod !== 'tcp') {
    try {
      socket = IcmpSocket.open();
      tracer = new Tracer(socket);
      lifecycle.onShutdown('raw sockets', () => {
        tracer?.close();
        socket?.close();
      });
    } catch (err) {
      if (!(err instanceof RawSocketUnavailable) || cfg.pingMethod === 'icmp') throw err;
      rawSockets = { available: false, reason: err.message };
      log.warn(`${err.message}: falling back to TCP pings on ports ${cfg.tcpPorts.join(', ')}, no traceroutes`);
    }
  }

  // Alias probes carry IP options: a socket of their own, so the options never ride on other probes.
  let aliases: { prober: AliasProber; due: () => boolean } | undefined;
  if (tracer && cfg.enableTraceroute && cfg.aliasEvery > 0) {
    const optionsSocket = OptionsIcmpSocket.open();
    const prober = new AliasProber(optionsSocket);
    aliases = { prober, due: aliasSchedule(cfg.aliasEvery) };
    lifecycle.onShutdown('alias socket', () => {
      prober.close();
      optionsSocket.close();
    });
  }

  const ledger = new ResultLedger();
  const spool = await ResultSpool.open(cfg.spoolDir, {
    maxBytes: cfg.spoolMaxMb * 1024 * 1024,
    ledger,
    log: log.child({ module: 'spool' }),
  });
  lifecycle.onShutdown('spool', () => spool.close());
  const quarantine = await ResultQuarantine.open(cfg.spoolDir, ledger, log.child({ module: 'quarantine' }));
  new Gauge({
    name: 'hopmap_spool_results',
    help: 'results spooled, waiting for delivery to the output',
    registers: [metrics.registry],
    collect() {
      this.set(spool.depth);
    },
  });
  const sink = createResultSink(cfg.outputFile, {
    workerId: cfg.workerId,
    apiKey: cfg.apiKey,
    ca: cfg.caFile,
    log: log.child({ module: 'delivery' }),
  });
  lifecycle.onShutdown('sink', () => sink.close());
  const delivery = new ResultDelivery({
    spool,
    sink,
    quarantine,
    quarantineRetryMs: cfg.quarantineRetry,
    log: log.child({ module: 'delivery' }),
  });
  registerResultAccounts(metrics.registry, () => delivery.stats);
  // After the delivery's last flush: what a supervisor (hopmap lab run) checks for lost results.
  lifecycle.onShutdown('summary', () =>
    log.info({ produced: ledger.produced, spooled: spool.depth, delivery: delivery.stats }, 'worker summary'),
  );
  delivery.start();
  lifecycle.onShutdown('delivery', () => delivery.stop({ flushTimeoutMs: cfg.shutdownFlush }));

  const pacer = new Pacer(cfg.pps);
  const stopSet = cfg.stopSet
    ? new StopSet({ maxAgeMs: cfg.stopSetMaxAge, fullTraceEveryMs: cfg.fullTraceEvery })
    : undefined;
  const responders = new ResponderBudget();
  const pingMethod = rawSockets.available && cfg.pingMethod !== 'tcp' ? 'icmp' : 'tcp';
  let lastFetchOk: boolean | undefined;
  const paced = { take: () => (sent.inc(), pacer.take()) };
  const store = async (batch: Result[]) => {
    await spool.append(batch);
    for (const r of batch) results.inc({ type: r.type });
  };
  const isolated = metrics.gauge(
    'worker_isolated',
    '1 while the worker seems cut off from the network (no target and no canary answers): probing paused',
  );
  isolated.set(0);
  const remeasured = metrics.counter(
    'targets_remeasured_total',
    'targets measured again because they were probed while the worker was cut off',
  );
  // A cut fails every measurement in flight at once, so a streak shorter than `concurrency` proves nothing; 8
  // keeps the check (usually one canary ping) to about 1 packet in 25 on a sweep of dead addresses (3 pings each).
  const guard = cfg.isolationCheck
    ? new IsolationGuard({
        threshold: Math.max(8, cfg.concurrency),
        probeCanary: async (address) => {
          await paced.take();
          // A canary that cannot even be sent (the worker's own route gone) is as silent as one that does not answer.
          const answer = await pingOnce(address, {
            tracer,
            pingMethod,
            tcpPorts: cfg.tcpPorts,
            timeoutMs: cfg.probeTimeout,
          }).catch(() => undefined);
          return answer !== undefined;
        },
        store,
        log: log.child({ module: 'isolation' }),
        onIsolated: (on) => isolated.set(on ? 1 : 0),
        onRemeasure: () => remeasured.inc(),
      })
    : undefined;
  const noAnswers = metrics.gauge(
    'worker_no_answers',
    '1 while no probe has ever been answered (past no_answers_after_probes): leasing slowed to a trickle',
  );
  noAnswers.set(0);
  const silence = new SilenceWatch({
    thresholds: { probes: cfg.noAnswersAfterProbes, targets: cfg.noAnswersAfterTargets },
    log: log.child({ module: 'network' }),
    onChange: (on) => noAnswers.set(on ? 1 : 0),
  });
  const loop = new ProbeLoop({
    source: targetSource(cfg.inputFile, { workerId: cfg.workerId, apiKey: cfg.apiKey, ca: cfg.caFile }),
    log: log.child({ module: 'probe' }),
    batchSize: cfg.batchSize,
    concurrency: cfg.concurrency,
    cooldownMs: cfg.cooldownMinutes * 60_000,
    intervalMs: cfg.intervalSeconds * 1000,
    onFetch: (ok) => {
      lastFetchOk = ok;
      fetches.inc({ outcome: ok ? 'ok' : 'failed' });
    },
    measure: (target, lease) =>
      measureTarget(target, lease, {
        workerId: cfg.workerId,
        tracer,
        pacer: paced,
        pingMethod,
        pingCount: cfg.pingCount,
        tcpPorts: cfg.tcpPorts,
        timeoutMs: cfg.probeTimeout,
        traceroute:
          cfg.enableTraceroute && tracer
            ? {
                method: cfg.tracerouteMethod,
                mode: cfg.tracerouteMode,
                maxHops: cfg.tracerouteMaxHops,
                confidence: cfg.multipathConfidence,
                responders,
                ...(stopSet ? { doubletree: { stopSet, startTtl: cfg.stopSetStartTtl } } : {}),
              }
            : false,
        onProbe: (ok) => {
          if (ok) answered.inc();
          silence.probe(target, ok);
        },
        ...(aliases ? { aliases } : {}),
      }),
    store,
    ...(guard ? { guard } : {}),
    silence,
  });
  loop.start();
  lifecycle.onShutdown('probe loop', () => loop.stop());
  // Runs first (hooks run last-registered first): traces waiting for a rate-limited router's slot go on at once.
  lifecycle.onShutdown('icmp budgets', () => responders.close());

  const identity = makeIdentity(
    'ping',
    ['icmp', 'tcp', ...(tracer ? ['traceroute', 'icmp-paris', 'udp-paris', 'tcp-syn', 'multipath'] : [])],
    cfg.workerId,
  );
  const atRisk = () =>
    resultsAtRisk(
      {
        delivery: delivery.stats,
        droppedLastHour: ledger.droppedLastHour(),
        spoolFullness: spool.fullness,
        spoolCapacity: spool.capacity,
      },
      { stallMs: cfg.deliveryStallAlert },
    );
  const { app, state } = createServiceApp({
    identity,
    log,
    metrics,
    healthDetails: () => {
      const reasons = atRisk();
      const network = networkHealth(guard?.status(), silence.status());
      return {
        // The kit says ok or draining; a worker whose results are at risk, or that is cut off or has never heard
        // an answer, says degraded, and why (`results_at_risk`, `network.reason`).
        ...((reasons.length > 0 || network.reason !== undefined) &&
          !state.draining && { status: 'degraded', ...(reasons.length > 0 && { results_at_risk: reasons }) }),
        raw_sockets: rawSockets,
        ping_method: pingMethod,
        pps_cap: cfg.pps,
        // What Doubletree saves, and what keeping the map current costs: the share of traces that used no entry.
        stop_set: stopSet ? stopSetHealth(stopSet.snapshot()) : null,
        // Interfaces this worker found rate-limiting their ICMP errors, and its spacing of probes to each (ms).
        icmp_rate_limited: responders.limited(),
        input: { source: cfg.inputFile, last_fetch_ok: lastFetchOk ?? null },
        spool: {
          depth: spool.depth,
          bytes: spool.bytes,
          capacity: spool.capacity,
          dropped: spool.dropped,
          quarantined: quarantine.size,
        },
        delivery: delivery.stats,
        network,
      };
    },
  });
  const server = await listen(app, { port: cfg.healthCheckPort, host: cfg.healthCheckHost });
  lifecycle.onShutdown('health server', async () => {
    state.draining = true;
    await server.close(5_000);
  });
  log.info(
    { health: server.url, input: cfg.inputFile, output: cfg.outputFile, pps: cfg.pps, pingMethod },
    'worker running',
  );
  return { url: server.url, lifecycle, stop: () => lifecycle.shutdown('stop') };
}

/**
 * Where every result went, read from the ledger at scrape time: counters for what only grows, gauges for
 * what comes and goes. `produced = delivered + rejected + quarantined + dropped + backlog`.
 */
function registerResultAccounts(registry: Registry, accounts: () => ResultAccounts): void {
  const counters = {
    produced: 'results spooled (and found spooled at start)',
    delivered: 'results the output has',
    rejected: 'results the output refused for good',
    dropped: 'results lost: the spool or its disk was full',
  } as const;
  for (const [name, help] of Object.entries(counters)) {
    new Counter({
      name: `hopmap_results_${name}_total`,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(accounts()[name as keyof typeof counters]);
      },
    });
  }
  const gauges = {
    quarantined: 'results held aside: the output fails on them while it stores others',
    backlog: 'results spooled, waiting for delivery',
  } as const;
  for (const [name, help] of Object.entries(gauges)) {
    new Gauge({
      name: `hopmap_results_${name}`,
      help,
      registers: [registry],
      collect() {
        this.set(accounts()[name as keyof typeof gauges]);
      },
    });
  }
}
