import type { Pool, PoolClient } from '../db/create-pool.js';
import { inTransaction } from '../db/in-transaction.js';

/** Serialises resolutions: a slow run and the next cron tick, or `resolveRouters` called by hand, never interleave. */
const RESOLVE_LOCK_KEY = 727_101_0011;

export interface Resolution {
  /** Routers with more than one interface, and the interfaces they hold. */
  routers: number;
  interfaces: number;
  /** Alias pairs whose merge was refused because it would join two addresses a timestamp test found distinct. */
  refused: number;
}

interface PairRow {
  a: string;
  b: string;
  supports: boolean;
  blocked: boolean;
}

/**
 * Merges interfaces into routers by union-find over the address pairs with alias evidence, and writes the
 * result in one transaction, so a reader sees the previous resolution or this one, never a mix.
 *
 * The rule: per (pair, method) the majority verdict counts. A pair whose majority is `alias` in any method
 * joins the two addresses' routers, unless that would put in one router two addresses whose prespecified
 * timestamp test said `distinct` more often than `alias`. Only the timestamp test blocks: when a router
 * stamps for one of its addresses but not for another, that is a positive sign they are apart, while a
 * `distinct` from another method (Ally on random or per-destination IP-IDs, a Mercator reply from the probed
 * address itself) is only a test that could not tell.
 * Merges are tried strongest first (more methods agreeing, then more alias verdicts, then pair order), so
 * where evidence conflicts the better supported merge wins and the same evidence always gives the same routers.
 */
export function resolveRouters(pool: Pool): Promise<Resolution> {
  return inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock($1)', [RESOLVE_LOCK_KEY]);
    const { rows } = await client.query<PairRow>(
      `select host(a) as a, host(b) as b,
              bool_or(alias_count > distinct_count) as supports,
              bool_or(method = 'timestamp' and distinct_count > alias_count) as blocked
         from alias_evidence
        group by a, b
       having bool_or(alias_count > distinct_count) or bool_or(method = 'timestamp' and distinct_count > alias_count)
        order by count(*) filter (where alias_count > distinct_count) desc, sum(alias_count) desc, a, b`,
    );
    const sets = unionRouters(rows);
    await writeRouters(client, sets);
    return {
      routers: sets.groups.length,
      interfaces: sets.groups.reduce((n, g) => n + g.members.length, 0),
      refused: sets.refused,
    };
  });
}

interface Groups {
  groups: Array<{ members: string[]; pairs: number }>;
  refused: number;
}

/** Union-find with "cannot link" sets: each root keeps every address one of its members was found distinct from. */
export function unionRouters(
  pairs: ReadonlyArray<{ a: string; b: string; supports: boolean; blocked: boolean }>,
): Groups {
  const parent = new Map<string, string>();
  const cannot = new Map<string, Set<string>>();
  // Iterative, with path compression: a chain of a million merges must not overflow the stack.
  const find = (x: string): string => {
    let root = x;
    for (let up = parent.get(root); up !== undefined && up !== root; up = parent.get(root)) root = up;
    for (let at = x; at !== root;) {
      const next = parent.get(at)!;
      parent.set(at, root);
      at = next;
    }
    return root;
  };
  const apart = (x: string) => cannot.get(x) ?? cannot.set(x, new Set()).get(x)!;
  for (const p of pairs) {
    if (!p.blocked) continue;
    apart(p.a).add(p.b);
    apart(p.b).add(p.a);
  }
  let refused = 0;
  for (const p of pairs) {
    if (!p.supports) continue;
    let ra = find(p.a);
    let rb = find(p.b);
    if (ra === rb) continue;
    if (apart(ra).size > apart(rb).size) [ra, rb] = [rb, ra];
    if ([...apart(ra)].some((x) => find(x) === rb)) {
      refused++;
      continue;
    }
    parent.set(ra, rb);
    for (const x of apart(ra)) apart(rb).add(x);
    cannot.delete(ra);
  }
  const members = new Map<string, string[]>();
  for (const x of parent.keys()) {
    const r = find(x);
    (members.get(r) ?? members.set(r, [r]).get(r)!).push(x);
  }
  const pairsOf = new Map<string, number>();
  for (const p of pairs)
    if (p.supports && find(p.a) === find(p.b)) pairsOf.set(find(p.a), (pairsOf.get(find(p.a)) ?? 0) + 1);
  const groups = [...members.entries()].map(([root, m]) => ({
    members: [...new Set(m)],
    pairs: pairsOf.get(root) ?? 0,
  }));
  return { groups: groups.filter((g) => g.members.length > 1), refused };
}

/**
 * Writes the difference only (rows whose router did not change are not touched, so a resolution that finds
 * nothing new writes nothing and leaves no dead tuples). The router id, the smallest address of the set, is
 * taken by PostgreSQL's own inet order.
 */
async function writeRouters(client: PoolClient, sets: Groups): Promise<void> {
  const addresses: string[] = [];
  const group: number[] = [];
  sets.groups.forEach((g, i) => {
    for (const m of g.members) {
      addresses.push(m);
      group.push(i);
    }
  });
  await client.query(
    `create temp table resolved_routers on commit drop as
       select address, min(address) over (partition by g) as router_id, g
         from unnest($1::inet[], $2::int[]) as u(address, g)`,
    [addresses, group],
  );
  // Without statistics the planner takes the temporary table for a small one and picks nested loops.
  await client.query('analyze resolved_routers');
  await client.query(
    `delete from router_interfaces r where not exists (select 1 from resolved_routers n where n.address = r.address)`,
  );
  await client.query(
    `insert into router_interfaces (address, router_id)
     select n.address, n.router_id from resolved_routers n left join router_interfaces r using (address)
      where r.router_id is distinct from n.router_id order by n.address
     on conflict (address) do update set router_id = excluded.router_id`,
  );
  await client.query(
    `delete from routers r where not exists (select 1 from resolved_routers n where n.router_id = r.id)`,
  );
  await client.query(
    `with resolved as (
       select n.router_id as id, count(*)::int as interfaces, max(p.pairs) as alias_pairs
         from resolved_routers n join unnest($1::int[]) with ordinality as p(pairs, g) on p.g - 1 = n.g
        group by n.router_id)
     insert into routers (id, interfaces, alias_pairs)
     select s.id, s.interfaces, s.alias_pairs from resolved s left join routers r using (id)
      where (r.interfaces, r.alias_pairs) is distinct from (s.interfaces, s.alias_pairs) order by s.id
     on conflict (id) do update set interfaces = excluded.interfaces, alias_pairs = excluded.alias_pairs, resolved_at = now()`,
    [sets.groups.map((g) => g.pairs)],
  );
}
