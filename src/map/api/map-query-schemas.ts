import { z } from 'zod';
import { addressSchema as address } from '../../net/address-schema.js';
import { parseAddress, parseTarget } from '../../net/ip-address.js';
import { isCountryCode } from '../geo/country-points.js';
import type { LinkCursor } from '../graph/interface-graph.js';

export const time = z.iso.datetime({ offset: true });

const prefix = z.string().transform((s, ctx) => {
  const parsed = parseTarget(s);
  if (parsed.ok) return parsed.block.cidr;
  ctx.addIssue({ code: 'custom', message: parsed.reason });
  return z.NEVER;
});

/** The graph's cursor is opaque to clients: base64url of "near far", the last link of the previous page. */
export const encodeLinkCursor = (c: LinkCursor) => Buffer.from(`${c.near} ${c.far}`).toString('base64url');

const linkCursor = z.string().transform((s, ctx): LinkCursor => {
  const [near, far, extra] = Buffer.from(s, 'base64url').toString('utf8').split(' ');
  if (near && far && extra === undefined && parseAddress(near) && parseAddress(far)) return { near, far };
  ctx.addIssue({ code: 'custom', message: 'not a cursor this API gave out (use `next` of the previous page)' });
  return z.NEVER;
});

export const MAX_GRAPH_PAGE = 10_000;

export const graphQuery = z
  .strictObject({
    level: z.enum(['interface', 'as', 'router']).default('interface'),
    format: z.enum(['json', 'graphml', 'geojson']).default('json'),
    since: time.optional(),
    until: time.optional(),
    asn: z.coerce.number({ error: 'expected an AS number' }).int().min(0).max(4_294_967_295).optional(),
    target_prefix: prefix.optional(),
    country: z
      .string()
      .transform((s) => s.toUpperCase())
      .refine(isCountryCode, 'expected an ISO 3166-1 alpha-2 country code (US, DE…)')
      .optional(),
    worker: z.string().min(1).max(200).optional(),
    limit: z.coerce.number({ error: 'expected a number' }).int().min(1).max(MAX_GRAPH_PAGE).default(1_000),
    cursor: linkCursor.optional(),
  })
  .refine((q) => !(q.cursor && q.level === 'as'), {
    path: ['cursor'],
    message: 'the AS graph is one page; it takes no cursor',
  })
  .refine((q) => !(q.format === 'geojson' && q.level !== 'interface'), {
    path: ['format'],
    message: 'GeoJSON places addresses: it is for level=interface',
  });

export const pathQuery = z.strictObject({
  worker: z.string().min(1),
  target: address,
  at: time.optional(),
});

const changeId = z.coerce.number({ error: 'expected a number' }).int().min(0);

/** `after` is the output service's older name for `cursor` (its GET /routes/changes): either, not both. */
export const changesQuery = z
  .strictObject({
    since: time.optional(),
    worker: z.string().min(1).optional(),
    target: address.optional(),
    cursor: changeId.optional(),
    after: changeId.optional(),
    limit: z.coerce.number({ error: 'expected a number' }).int().min(1).max(1_000).default(100),
  })
  .refine((q) => q.cursor === undefined || q.after === undefined, {
    path: ['after'],
    message: 'after is the older name of cursor: give one of them',
  });
