import { z } from 'zod';
import { addressSchema as address } from '../net/address-schema.js';

/**
 * Version 1 of the result format, the contract between workers and the output service (docs/result-format.md).
 * Every result carries `format`, so a reader can tell versions apart, and `id`, the idempotency key: a
 * result posted again, to any instance, is stored once.
 */
export const RESULT_FORMAT = 'hopmap-result/1';

/*
 * Everything that passes here must also pass PostgreSQL (inet, text, jsonb, real, integer, timestamptz):
 * a value refused there would fail the item's whole batch instead of naming the item.
 */

// NUL: text and jsonb refuse it; a lone surrogate: jsonb refuses its \ud800 escape.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain a NUL character')
    .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode (a lone surrogate)');

/** PostgreSQL refuses year 0000 and UTC offsets beyond ±15:59 that the ISO pattern allows. */
const timestamp = z.iso
  .datetime({ offset: true })
  .refine(
    (s) => !s.startsWith('0000') && !/[+-](1[6-9]|2\d):\d\d$/.test(s),
    'outside what PostgreSQL stores (year 0001 on, UTC offset at most ±15:59)',
  );

/** Counts end up in integer columns and arrays; nothing real comes near 2^31. */
const count = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31 - 1);

/**
 * RTTs feed the `real` columns of links as differences: an hour bounds any real probe and keeps them in
 * range; below 1 ns (other than 0) a difference could underflow `real`, and no clock measures that.
 */
const MAX_RTT_US = 3_600_000_000;
const rtt = z
  .number()
  .min(0)
  .max(MAX_RTT_US)
  .refine((v) => v === 0 || v >= 0.001, 'must be 0 or at least 0.001 µs');

const mplsEntry = z.strictObject({
  label: z.number().int().min(0).max(0xfffff),
  exp: z.number().int().min(0).max(7),
  bottom: z.boolean(),
  ttl: z.number().int().min(0).max(255),
});

export const probeAnswerSchema = z.strictObject({
  from: address,
  rtt_us: rtt,
  icmp_type: z.number().int().min(0).max(255).optional(),
  icmp_code: z.number().int().min(0).max(255).optional(),
  reply_ttl: z.number().int().min(0).max(255).optional(),
  tcp_flags: z.enum(['syn-ack', 'rst']).optional(),
  mpls: z.array(mplsEntry).optional(),
});

const common = {
  format: z.literal(RESULT_FORMAT),
  id: z.uuid(),
  worker: text(128),
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
  sent: count.min(1),
  received: count,
  rtts_us: z.array(rtt),
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
  probes_sent: count,
  /** Probes not sent because the stop set already knew the hops (Doubletree). */
  probes_saved: count.optional(),
  hops: z.array(
    z.strictObject({ ttl: z.number().int().min(1).max(255), probes: z.array(probeAnswerSchema.nullable()) }),
  ),
});

export const multipathResultSchema = z.strictObject({
  ...common,
  type: z.literal('multipath'),
  method: z.enum(['icmp-paris', 'udp-paris', 'tcp-syn']),
  confidence: z.number().gt(0).lt(1),
  reached: z.boolean(),
  probes_sent: count,
  hops: z.array(
    z.strictObject({
      ttl: z.number().int().min(1).max(255),
      interfaces: z.array(address),
      flows: count,
      silent: count,
      rtts_us: z.record(address, z.array(rtt)),
    }),
  ),
  links: z.array(z.tuple([address, address])),
});

/**
 * Alias measurements of the routers on one Paris flow toward `target` (low-rate background work of a worker).
 * Raw observations only: which addresses are one router is decided by the output service
 * (src/aliases/alias-evidence.ts), so a better inference needs no worker upgrade.
 */
export const aliasResultSchema = z.strictObject({
  ...common,
  type: z.literal('alias'),
  /** ICMP checksum of the Paris flow the record-route probes kept (the traceroute's flow when it was ICMP). */
  flow: z.number().int().min(0).max(65535),
  probes_sent: count,
  /**
   * DisCarte: ICMP echo probes carrying the record-route option, one per TTL. `from` answered (time exceeded,
   * or the echo reply at the destination); `recorded` is the option's address list as it came back: from the
   * header quoted in a time-exceeded error, or from the echo reply's own header.
   */
  record_route: z.array(
    z.strictObject({
      ttl: z.number().int().min(1).max(255),
      from: address.nullable(),
      icmp_type: z.number().int().min(0).max(255).optional(),
      recorded: z.array(address).max(9),
    }),
  ),
  /** Prespecified timestamps: an echo to `address` asking each of `prespecified` to stamp, in order. `stamped` null: no reply. */
  timestamps: z.array(
    z.strictObject({
      address,
      prespecified: z.array(address).min(1).max(4),
      stamped: z.array(z.boolean()).max(4).nullable(),
    }),
  ),
  /** Mercator: a UDP probe to an unused port of `address`; `from` is who sent the port unreachable (null: nobody). */
  mercator: z.array(z.strictObject({ address, from: address.nullable() })),
  /** Ally: echo requests to `a` and `b` alternately; the IP-ID of each reply in the order received (null: lost). */
  ipid: z.array(
    z.strictObject({
      a: address,
      b: address,
      samples: z.array(z.strictObject({ address, ipid: z.number().int().min(0).max(65535).nullable() })),
    }),
  ),
});

/**
 * A measurement the worker could not make: no probe of it left (no route to the target, no socket for its
 * family, a send the kernel refused). Never a ping or trace with unanswered probes: those left and went unanswered.
 */
export const errorResultSchema = z.strictObject({
  ...common,
  type: z.literal('error'),
  /** What was attempted. */
  measurement: z.enum(['ping', 'traceroute', 'multipath']),
  method: z.enum(['icmp', 'tcp', 'icmp-paris', 'udp-paris', 'tcp-syn']),
  /** Why no probe left, as the worker knows it (the kernel's error code where there is one). */
  reason: text(500),
});

export const resultSchema = z.discriminatedUnion('type', [
  pingResultSchema,
  tracerouteResultSchema,
  multipathResultSchema,
  aliasResultSchema,
  errorResultSchema,
]);

export type PingResult = z.infer<typeof pingResultSchema>;
export type TracerouteResult = z.infer<typeof tracerouteResultSchema>;
export type MultipathResultRecord = z.infer<typeof multipathResultSchema>;
export type AliasResult = z.infer<typeof aliasResultSchema>;
export type ErrorResult = z.infer<typeof errorResultSchema>;
export type Result = z.infer<typeof resultSchema>;
