/** What the map's graph queries select: links seen in a time window, touching an AS or a country, on routes to a prefix or of a worker. */
export interface GraphFilter {
  /** Links last seen at or after this time. */
  since?: string | undefined;
  /** Links first seen before this time. */
  until?: string | undefined;
  /** Links with an end in this AS (needs `address_info`). */
  asn?: number | undefined;
  /** Links on a path of a route whose target is in this CIDR. */
  targetPrefix?: string | undefined;
  /** Links with an end in this country, ISO 3166-1 alpha-2 as `address_info` holds it (needs `address_info`). */
  country?: string | undefined;
  /** Links on a path of a route that this worker measured. */
  worker?: string | undefined;
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
  if (f.country) {
    const country = p(f.country);
    where.push(`exists (select 1 from address_info a where a.address in (l.near, l.far) and a.country = ${country})`);
  }
  // `links` does not say who measured a link or towards what; the route spans do (route_spans_route_idx leads with
  // worker, route_spans_target_idx with target). Both set: links on that worker's routes to the prefix.
  const spans: string[] = [];
  if (f.targetPrefix) spans.push(`target <<= ${p(f.targetPrefix)}::inet`);
  if (f.worker) spans.push(`worker = ${p(f.worker)}`);
  if (spans.length) where.push(linksOnPathsOf(spans.join(' and ')));
  return where;
}

/**
 * Links on the stored paths of the route spans matching `spans`: address pairs of consecutive TTLs; for a
 * multipath step that is every pair, a superset of its real links, which matching against `links` narrows to
 * those seen.
 */
function linksOnPathsOf(spans: string): string {
  return `(l.near, l.far) in (
      select n.a::inet, f.a::inet
        from (select distinct path_id from route_spans where ${spans}) s
        join paths pa on pa.id = s.path_id
       cross join lateral generate_series(0, jsonb_array_length(pa.hops) - 2) i
       cross join lateral jsonb_array_elements_text(pa.hops -> i) n(a)
       cross join lateral jsonb_array_elements_text(pa.hops -> (i + 1)) f(a))`;
}
