import { z } from 'zod';
import { addressSchema as address } from '../net/address-schema.js';
import { parseTarget } from '../net/ip-address.js';

export const EXPORT_FORMAT = 'hopmap-consumers/1';

// Each value must fit its column (inet, cidr, text, integer, smallint, bigint, timestamptz), so an import
// that passed validation cannot fail in the database halfway.
const cidr = z
  .string()
  .max(49)
  .refine((s) => /^[0-9a-fA-F:./]+$/.test(s) && parseTarget(s).ok, 'not a CIDR');
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain a NUL character');
const int32 = z
  .number()
  .int()
  .min(-(2 ** 31))
  .max(2 ** 31 - 1);
const count = z.number().int().min(0);
const smallCount = count.max(2 ** 15 - 1);
const pass = z
  .number()
  .int()
  .min(1)
  .max(2 ** 31 - 1);
// PostgreSQL refuses year 0000 and UTC offsets beyond ±15:59, both of which the ISO pattern allows.
const timestamp = z.iso
  .datetime({ offset: true })
  .refine((s) => !s.startsWith('0000') && !/[+-](1[6-9]|2\d):\d\d$/.test(s), 'outside what PostgreSQL stores');

/**
 * The per-consumer state as exported by GET /export and restored by POST /import. Blocks are named by
 * CIDR and hops by their index in `hops` (ids differ between databases), so the state means the same in a
 * database built from the same target files.
 */
export const consumerStateSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  exported_at: timestamp,
  hops: z.array(address),
  consumers: z.array(
    z.strictObject({
      id: text(128).min(1),
      pass,
      pass_started_at: timestamp,
      cooldown_until: timestamp.nullable(),
      ring: z.strictObject({
        start: int32,
        cursor_key: int32.nullable(),
        cursor_cidr: cidr.nullable(),
        wrapped: z.boolean(),
        done: z.boolean(),
      }),
      hops_served: z.array(z.tuple([count, count])),
      last_prefix: text(64).nullable(),
      rr_slot: int32.min(0),
      served_in_pass: count,
      served_total: count,
      blocks: z.array(z.strictObject({ cidr, position: count, slot: smallCount })),
      leases: z.array(
        z.strictObject({
          id: z.uuid(),
          pass,
          state: z.enum(['open']),
          targets: z.array(address).min(1),
          acked: z.array(address),
          issued_at: timestamp,
          expires_at: timestamp,
        }),
      ),
    }),
  ),
});

export type ConsumerState = z.infer<typeof consumerStateSchema>;
