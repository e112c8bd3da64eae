import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { bool, duration, list, logLevel, port, positiveInt } from '../config/values.js';
import { TRACE_METHODS } from '../probe/traceroute.js';

/**
 * `hopmap ping` configuration. The original worker's keys (input_file, output_file, interval_seconds,
 * cooldown_minutes, enable_traceroute, traceroute_max_hops, health_check_port) keep their names and meaning;
 * input and output may each be an HTTP(S) URL, a file path, or a unix socket (`unix:///path`).
 */
const workerFields = z.object({
  inputFile: z.string().min(1, 'give an input: a URL of an input service, a file of addresses, or unix:///path'),
  outputFile: z.string().min(1, 'give an output: a URL of an output service, a file, or unix:///path'),
  intervalSeconds: z.coerce.number().positive().default(5),
  cooldownMinutes: z.coerce.number().min(0).default(30),
  enableTraceroute: bool().default(true),
  tracerouteMaxHops: positiveInt().max(64).default(30),
  healthCheckPort: port().default(8090),
  healthCheckHost: z.string().min(1).default('0.0.0.0'),
  workerId: z
    .string()
    .regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'use 1-128 letters, digits or . _ : @ -')
    .default(hostname()),
  apiKey: z.string().min(1).optional(),
  /** Extra CA certificates (PEM) to trust for https inputs and outputs, e.g. a manager's self-signed one. */
  caFile: z
    .string()
    .min(1)
    .transform((path, ctx) => {
      try {
        return readFileSync(path);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(err as Error).message}` });
        return z.NEVER;
      }
    })
    .optional(),
  pingMethod: z.enum(['auto', 'icmp', 'tcp']).default('auto'),
  pingCount: positiveInt().max(20).default(3),
  tcpPorts: list()
    .transform((items) => items.map(Number))
    .pipe(z.array(z.number().int('expected port numbers').min(1).max(65535)).min(1))
    .default([443, 80]),
  tracerouteMethod: z.enum(TRACE_METHODS).default('icmp-paris'),
  tracerouteMode: z.enum(['single', 'multipath']).default('single'),
  multipathConfidence: z.coerce.number().gt(0).lt(1).default(0.95),
  /** Doubletree: skip hops the worker already knows near itself or near the destination's network. */
  stopSet: bool().default(true),
  stopSetStartTtl: positiveInt().max(32).default(3),
  /** A stop-set entry observed longer ago than this stops no trace: what lies behind it is probed again. */
  stopSetMaxAge: duration().default(60 * 60_000),
  /** Every destination network is traced in full (no stop set) at least this often. */
  fullTraceEvery: duration().default(6 * 60 * 60_000),
  /** Alias resolution (docs/probing.md): one traced target in N also gets an alias measurement; 0 turns it off. */
  aliasEvery: z.coerce.number().int('expected a whole number').min(0).max(1_000_000).default(10),
  /** A hard cap on packets per second, every probe counted: safe for a home link by default. */
  pps: positiveInt().max(100_000).default(100),
  concurrency: positiveInt().max(1_000).default(16),
  batchSize: positiveInt().max(1_000).default(50),
  probeTimeout: duration().default(1_000),
  /** Hold unanswered results while the worker cannot tell dead targets from its own dead uplink (isolation-guard.ts). */
  isolationCheck: bool().default(true),
  /**
   * /health degraded (no_answers) and leasing slowed while this many pings, to at least `noAnswersAfterTargets`
   * distinct targets, went unanswered with no answer ever heard (silence-watch.ts); 0 turns it off.
   */
  noAnswersAfterProbes: z.coerce.number().int('expected a whole number').min(0).max(1_000_000).default(200),
  noAnswersAfterTargets: positiveInt().max(100_000).default(20),
  spoolDir: z.string().min(1).default('./.hopmap/spool'),
  spoolMaxMb: z.coerce.number().positive().default(100),
  shutdownFlush: duration().default(30_000),
  /** /health turns degraded when results wait this long with none delivered. */
  deliveryStallAlert: duration().default(5 * 60_000),
  /** Quarantined results (the output fails on them while it stores others) are tried again this often, then less often. */
  quarantineRetry: duration().default(10 * 60_000),
  logLevel: logLevel().default('info'),
  verbose: bool().default(false),
});

export const workerConfig = workerFields.superRefine((cfg, ctx) => {
  // Every target takes at least one ping: more targets than pings could never be reached.
  if (cfg.noAnswersAfterProbes > 0 && cfg.noAnswersAfterTargets > cfg.noAnswersAfterProbes)
    ctx.addIssue({
      code: 'custom',
      path: ['noAnswersAfterTargets'],
      message: `at most no_answers_after_probes (${cfg.noAnswersAfterProbes}): every target takes at least one probe`,
    });
});

export type WorkerConfig = z.infer<typeof workerConfig>;
