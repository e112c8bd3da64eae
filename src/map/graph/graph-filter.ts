/** What the map's graph queries select: links seen in a time window, touching an AS, or on routes to a prefix. */
export interface GraphFilter {
  /** Links last seen at or after this time. */
  since?: string | undefined;
  /** Links first seen before this time. */
  until?: string | undefined;
  /** Links with an end in this AS (needs `address_info`). */
  asn?: number | undefined;
  /** Links on a path of a route whose target is in this CIDR. */
  targetPrefix?: string | undefined;
}

/**
 * The WHERE clauses of a filter over `links l`, with their parameters appended to `params`. Clauses are only
 * added for filters that are set, so the planner sees a plain keyset scan when there are none.
 */
export function linkFilterSql(f: GraphFilter, params: unknown[]): string[] {
  const where: string[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (f.since) where.push(`l.last_seen_at >= ${p(f.since)}::timestamptz`);
  if (f.until) where.push(`l.first_seen_at < ${p(f.until)}::timestamptz`);
  if (f.asn !== undefined) {
    const asn = p(f.asn);
    where.push(`exists (select 1 from address_info a where a.address in (l.near, l.far) and a.asn = ${asn}::bigint)`);
  }
  if (f.targetPrefix) {
    // Address pairs of consecutive TTLs of the stored paths of routes to the prefix; for a multipath step that
    // is every pair, a superset of its real links, which matching against `links` narrows to those seen.
    where.push(`(l.near, l.far) in (
      select n.a::inet, f.a::inet
        from (select distinct path_id from route_spans where target <<= ${p(f.targetPrefix)}::inet) s
        join paths pa on pa.id = s.path_id
       cross join lateral generate_series(0, jsonb_array_length(pa.hops) - 2) i
       cross join lateral jsonb_array_elements_text(pa.hops -> i) n(a)
       cross join lateral jsonb_array_elements_text(pa.hops -> (i + 1)) f(a))`);
  }
  return where;
}
