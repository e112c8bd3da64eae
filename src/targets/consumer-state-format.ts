import { z } from 'zod';
import { parseAddress, parseTarget } from './ip-address.js';

export const EXPORT_FORMAT = 'hopmap-consumers/1';

const address = z.string().refine((s) => parseAddress(s) !== null, 'not an IPv4 or IPv6 address');
const cidr = z.string().refine((s) => parseTarget(s).ok, 'not a CIDR');
const int32 = z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1);
const count = z.number().int().min(0);
const timestamp = z.iso.datetime({ offset: true });

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
      id: z.string().min(1).max(128),
      pass: z.number().int().min(1),
      pass_started_at: timestamp,
      cooldown_until: timestamp.nullable(),
      ring: z.strictObject({ start: int32, cursor_key: int32.nullable(), cursor_cidr: cidr.nullable(), wrapped: z.boolean(), done: z.boolean() }),
      hops_served: z.array(z.tuple([count, count])),
      last_prefix: z.string().nullable(),
      rr_slot: count,
      served_in_pass: count,
      served_total: count,
      blocks: z.array(z.strictObject({ cidr, position: count, slot: count })),
      leases: z.array(
        z.strictObject({
          id: z.uuid(),
          pass: z.number().int().min(1),
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
