import { randomUUID } from 'node:crypto';
import type { AliasProber } from '../probe/alias-probes.js';
import type { ProbeReply } from '../probe/probe-reply.js';
import type { ResponderGate } from '../probe/responder-budget.js';
import { routeFlow, type Tracer } from '../probe/tracer.js';
import type { DoubletreeOptions, TraceMethod } from '../probe/traceroute.js';
import { ProbeSendError } from '../probe/probe-reply.js';
import { routeProblem } from '../probe/source-address.js';
import {
  RESULT_FORMAT,
  type ErrorResult,
  type MultipathResultRecord,
  type PingResult,
  type Result,
  type TracerouteResult,
} from '../results/result-schema.js';
import { measureAliases, tracedPath } from './measure-aliases.js';
import { tcpPing } from './tcp-ping.js';

export interface MeasureOptions {
  workerId: string;
  /** null when raw sockets are not allowed: TCP pings only, no traceroute. */
  tracer: Tracer | null;
  /** Every probe takes a send slot first: the packets-per-second cap. */
  pacer: { take(): Promise<void> };
  pingMethod: 'icmp' | 'tcp';
  pingCount: number;
  tcpPorts: number[];
  timeoutMs: number;
  traceroute:
    | false
    | {
        method: TraceMethod;
        mode: 'single' | 'multipath';
        maxHops: number;
        confidence: number;
        doubletree?: DoubletreeOptions;
        /** Per-responder ICMP budgets shared by all the worker's traces. */
        responders?: ResponderGate;
      };
  onProbe?: (answered: boolean) => void;
  /** Alias resolution after the trace, on the traced targets `due()` picks (measure-aliases.ts). */
  aliases?: { prober: AliasProber; due: () => boolean };
}

const answerRecord = (r: ProbeReply) => ({
  from: r.from,
  rtt_us: Math.round(r.rttUs * 1000) / 1000,
  ...(r.icmpType !== undefined ? { icmp_type: r.icmpType } : {}),
  ...(r.icmpCode !== undefined ? { icmp_code: r.icmpCode } : {}),
  ...(r.replyTtl !== undefined ? { reply_ttl: r.replyTtl } : {}),
  ...(r.tcpFlags ? { tcp_flags: r.tcpFlags } : {}),
  ...(r.mpls ? { mpls: r.mpls } : {}),
});

/**
 * Pings a target and, if it answered and traceroute is on, traceroutes it: one result per measurement. What
 * could not be measured (no route, a send the kernel refused, IPv6 traceroute) is an `error` result with the
 * reason, never a measurement whose probes did not leave.
 */
export async function measureTarget(target: string, lease: string | null, opts: MeasureOptions): Promise<Result[]> {
  const base = { format: RESULT_FORMAT, worker: opts.workerId, lease, target } as const;
  const ipv6 = target.includes(':');
  const failed = (measurement: ErrorResult['measurement'], method: ErrorResult['method'], reason: string): Result => {
    const at = new Date().toISOString();
    return { ...base, id: randomUUID(), type: 'error', measurement, method, reason, started_at: at, finished_at: at };
  };
  const noRoute = await routeProblem(target);
  if (noRoute) {
    // A target nothing can be sent to takes one send slot: a worker with no route to anything keeps its pace (and
    // its silence watch, which counts it as one unanswered attempt) instead of spinning through its targets.
    await opts.pacer.take();
    opts.onProbe?.(false);
    return [failed('ping', opts.pingMethod, noRoute)];
  }
  let ping: Awaited<ReturnType<typeof pingTarget>>;
  try {
    ping = await pingTarget(target, opts);
  } catch (err) {
    if (err instanceof ProbeSendError) return [failed('ping', opts.pingMethod, err.reason)];
    throw err;
  }
  const results: Result[] = [{ ...base, ...ping }];
  if (ping.received === 0 || !opts.traceroute || !opts.tracer) return results;

  const t = opts.traceroute;
  const traced: ErrorResult['measurement'] = t.mode === 'multipath' ? 'multipath' : 'traceroute';
  if (ipv6) {
    results.push(failed(traced, t.method, 'IPv6 traceroute is not built into this worker yet'));
    return results;
  }
  try {
    return await traceTarget(target, base, results, opts);
  } catch (err) {
    if (!(err instanceof ProbeSendError)) throw err;
    return [...results, failed(traced, t.method, err.reason)];
  }
}

/** Traceroutes (and, when due, alias-measures) a target that answered its ping; `results` holds that ping. */
async function traceTarget(
  target: string,
  base: { format: typeof RESULT_FORMAT; worker: string; lease: string | null; target: string },
  results: Result[],
  opts: MeasureOptions,
): Promise<Result[]> {
  results = [...results];
  const t = opts.traceroute;
  if (!t || !opts.tracer) return results;
  const pacedTracer = opts.tracer;
  const startedAt = new Date().toISOString();
  const singleTrace = async (method: TraceMethod): Promise<TracerouteResult> => {
    const begun = new Date().toISOString();
    const tr = await pacedTracer.trace(target, method, {
      flow: routeFlow(`${opts.workerId}|${target}`, method),
      maxHops: t.maxHops,
      timeoutMs: opts.timeoutMs,
      pace: () => opts.pacer.take(),
      doubletree: t.doubletree,
      ...(t.responders ? { responders: t.responders } : {}),
    });
    return {
      ...base,
      id: randomUUID(),
      type: 'traceroute',
      method,
      flow: tr.flow,
      reached: tr.reached,
      stop: tr.stop,
      probes_sent: tr.probesSent,
      ...(tr.probesSaved !== undefined ? { probes_saved: tr.probesSaved } : {}),
      started_at: begun,
      finished_at: new Date().toISOString(),
      hops: tr.hops.map((h) => ({ ttl: h.ttl, probes: h.probes.map((p) => (p ? answerRecord(p) : null)) })),
    };
  };
  if (t.mode === 'multipath') {
    const mp = await pacedTracer.multipath(target, t.method, {
      maxHops: t.maxHops,
      confidence: t.confidence,
      timeoutMs: opts.timeoutMs,
      pace: () => opts.pacer.take(),
      ...(t.responders ? { responders: t.responders } : {}),
    });
    const record: MultipathResultRecord = {
      ...base,
      id: randomUUID(),
      type: 'multipath',
      method: t.method,
      confidence: mp.confidence,
      reached: mp.reached,
      probes_sent: mp.probesSent,
      started_at: startedAt,
      finished_at: new Date().toISOString(),
      hops: mp.hops.map((h) => ({
        ttl: h.ttl,
        interfaces: h.interfaces,
        flows: h.flows,
        silent: h.silent,
        rtts_us: h.rttUs,
      })),
      links: mp.links,
    };
    results.push(record);
    // A router that sends no ICMP errors answers no UDP or TCP probe either, but still answers echo (the
    // ping just did): one ICMP Paris trace finds the link into it that the multipath trace could not.
    if (!mp.reached && t.method !== 'icmp-paris' && opts.pingMethod === 'icmp')
      results.push(await singleTrace('icmp-paris'));
  } else {
    results.push(await singleTrace(t.method));
  }
  // IP options are IPv4 only.
  if (opts.aliases && !target.includes(':') && opts.aliases.due()) {
    const aliasOpts = {
      prober: opts.aliases.prober,
      workerId: opts.workerId,
      lease: base.lease,
      pace: () => opts.pacer.take(),
      timeoutMs: opts.timeoutMs,
      maxHops: t.maxHops,
    };
    // Background work: a failure of it must not cost the target's ping and traceroute.
    const alias = await measureAliases(target, tracedPath(results), aliasOpts).catch(() => undefined);
    if (alias) results.push(alias);
  }
  return results;
}

async function pingTarget(
  target: string,
  opts: MeasureOptions,
): Promise<Omit<PingResult, 'format' | 'worker' | 'lease' | 'target'>> {
  const startedAt = new Date().toISOString();
  const rtts: number[] = [];
  let replyTtl: number | undefined;
  let port: number | undefined;
  for (let i = 0; i < opts.pingCount; i++) {
    await opts.pacer.take();
    const answer = await pingOnce(target, opts);
    opts.onProbe?.(answer !== undefined);
    if (answer) {
      rtts.push(Math.round(answer.rttUs * 1000) / 1000);
      replyTtl = answer.replyTtl ?? replyTtl;
    }
    // TCP: the port that answered, else the last one tried.
    if (!(opts.pingMethod === 'icmp' && opts.tracer)) port = answer?.port ?? opts.tcpPorts.at(-1);
  }
  return {
    id: randomUUID(),
    type: 'ping',
    method: opts.pingMethod,
    ...(port !== undefined ? { port } : {}),
    sent: opts.pingCount,
    received: rtts.length,
    rtts_us: rtts,
    ...(replyTtl !== undefined ? { reply_ttl: replyTtl } : {}),
    started_at: startedAt,
    finished_at: new Date().toISOString(),
  };
}

/**
 * One ping, unpaced: an ICMP echo when raw sockets allow it, else a TCP connection to each port in turn until
 * one answers. Undefined when nothing answered. Also the worker's canary check (isolation-guard.ts).
 */
export async function pingOnce(
  target: string,
  opts: Pick<MeasureOptions, 'tracer' | 'pingMethod' | 'tcpPorts' | 'timeoutMs'>,
): Promise<{ rttUs: number; replyTtl?: number; port?: number } | undefined> {
  if (opts.pingMethod === 'icmp' && opts.tracer) {
    if (target.includes(':')) {
      // Matched to its request by source, identifier and sequence already (in the kernel's spelling of the address).
      const r = await opts.tracer.echo6(target, { timeoutMs: opts.timeoutMs });
      return r && { rttUs: r.rttUs };
    }
    const r = await opts.tracer.echo.echo(target, { timeoutMs: opts.timeoutMs });
    return r !== undefined && r.from === target && r.icmpType === 0
      ? { rttUs: r.rttUs, replyTtl: r.replyTtl }
      : undefined;
  }
  for (const port of opts.tcpPorts) {
    const answer = await tcpPing(target, port, opts.timeoutMs);
    if (answer) return { rttUs: answer.rttUs, port };
  }
  return undefined;
}
