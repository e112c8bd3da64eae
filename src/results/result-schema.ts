import { z } from 'zod';

/**
 * Version 1 of the result format, the contract between workers and the output service (docs/result-format.md).
 * Every result carries `format`, so a reader can tell versions apart, and `id`, the idempotency key: a
 * result posted again, to any instance, is stored once.
 */
export const RESULT_FORMAT = 'hopmap-result/1';

const address = z.string().min(2).max(45);
const timestamp = z.iso.datetime({ offset: true });

const mplsEntry = z.strictObject({ label: z.number().int().min(0), exp: z.number().int().min(0).max(7), bottom: z.boolean(), ttl: z.number().int().min(0).max(255) });

export const probeAnswerSchema = z.strictObject({
  from: address,
  rtt_us: z.number().nonnegative(),
  icmp_type: z.number().int().min(0).max(255).optional(),
  icmp_code: z.number().int().min(0).max(255).optional(),
  reply_ttl: z.number().int().min(0).max(255).optional(),
  tcp_flags: z.enum(['syn-ack', 'rst']).optional(),
  mpls: z.array(mplsEntry).optional(),
});

const common = {
  format: z.literal(RESULT_FORMAT),
  id: z.uuid(),
  worker: z.string().min(1).max(128),
  lease: z.uuid().nullable(),
  target: address,
  started_at: timestamp,
  finished_at: timestamp,
};

export const pingResultSchema = z.strictObject({
  ...common,
  type: z.literal('ping'),
  method: z.enum(['icmp', 'tcp']),
  /** TCP pings: the port that answered (or the last one tried). */
  port: z.number().int().min(1).max(65535).optional(),
  sent: z.number().int().min(1),
  received: z.number().int().min(0),
  rtts_us: z.array(z.number().nonnegative()),
  reply_ttl: z.number().int().min(0).max(255).optional(),
});

export const tracerouteResultSchema = z.strictObject({
  ...common,
  type: z.literal('traceroute'),
  method: z.enum(['icmp-paris', 'udp-paris', 'tcp-syn']),
  /** The flow identifier kept constant: ICMP checksum, or source port. */
  flow: z.number().int().min(0).max(65535),
  reached: z.boolean(),
  stop: z.enum(['reached', 'gap', 'max-hops', 'unreachable', 'stop-set']),
  probes_sent: z.number().int().min(0),
  /** Probes not sent because the stop set already knew the hops (Doubletree). */
  probes_saved: z.number().int().min(0).optional(),
  hops: z.array(z.strictObject({ ttl: z.number().int().min(1).max(255), probes: z.array(probeAnswerSchema.nullable()) })),
});

export const multipathResultSchema = z.strictObject({
  ...common,
  type: z.literal('multipath'),
  method: z.enum(['icmp-paris', 'udp-paris', 'tcp-syn']),
  confidence: z.number().gt(0).lt(1),
  reached: z.boolean(),
  probes_sent: z.number().int().min(0),
  hops: z.array(
    z.strictObject({
      ttl: z.number().int().min(1).max(255),
      interfaces: z.array(address),
      flows: z.number().int().min(0),
      silent: z.number().int().min(0),
      rtts_us: z.record(z.string(), z.array(z.number().nonnegative())),
    }),
  ),
  links: z.array(z.tuple([address, address])),
});

export const resultSchema = z.discriminatedUnion('type', [pingResultSchema, tracerouteResultSchema, multipathResultSchema]);

export type PingResult = z.infer<typeof pingResultSchema>;
export type TracerouteResult = z.infer<typeof tracerouteResultSchema>;
export type MultipathResultRecord = z.infer<typeof multipathResultSchema>;
export type Result = z.infer<typeof resultSchema>;
