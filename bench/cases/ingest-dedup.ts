import pg from 'pg';
import { inTransaction } from '../../src/db/in-transaction.js';
import { extractLinks } from '../../src/results/extract-links.js';
import { upsertLinks } from '../../src/results/store-results.js';
import { addHops } from '../../src/targets/add-hops.js';
import type { BenchCase, BenchContext, Figure } from '../bench-case.js';
import { formatCount, loopDetails } from '../bench-table.js';
import { BATCH } from '../ingest-batches.js';
import { traceBatch, TRACE_HOPS } from '../ingest-traces.js';
import { measureLoop, type LoopResult } from '../measure-loop.js';

export const INGEST_DEDUP = 'ingest-dedup';
/** Distinct batches before the paths repeat, as in ingest-http: after the first pass nearly every row is a conflict. */
const RING = 32;
const PLAIN_ID = `${INGEST_DEDUP}/plain-on-conflict`;
const HOPMAP_ID = `${INGEST_DEDUP}/hopmap`;
/** The statement triggers on links that keep the AS graph (migration 0013); truncate's is left alone. */
/** Marks the address_info rows this case adds, to remove them again: the map cases seed their own. */
const DATA_VERSION = 'bench-ingest-dedup';
const AS_LINKS_TRIGGERS = ['as_links_links_inserted', 'as_links_links_updated'];
const setTriggers = (how: 'enable' | 'disable') =>
  `alter table links ${AS_LINKS_TRIGGERS.map((t) => `${how} trigger ${t}`).join(', ')}`;

/** One batch's rows as the output's ingest has them after extracting links and hops. */
interface DedupBatch {
  observations: ReturnType<typeof extractLinks>['links'];
  near: string[];
  far: string[];
  hops: string[];
}

// The floor: the same link and hop rows with the plainest de-duplication PostgreSQL has. DO NOTHING, because
// DO UPDATE refuses a row twice in one statement, which is why hopmap aggregates a batch before its upsert.
const PLAIN_LINKS = `insert into bench_dedup_links (near, far) select * from unnest($1::inet[], $2::inet[]) on conflict do nothing`;
const PLAIN_HOPS = `insert into bench_dedup_hops (address) select unnest($1::inet[]) on conflict do nothing`;

/**
 * The link and hop de-duplication of the output's ingest (upsertLinks: aggregate per batch, then insert … on
 * conflict do update of counts, first/last seen and RTT deltas, firing the as_links triggers; addHops: skip
 * hops inside loaded blocks, insert … on conflict do nothing) beside a plain insert … on conflict do nothing
 * of the same rows into two bare tables, one transaction per batch of 500 traceroutes, one connection each.
 */
export const ingestDedup: BenchCase = {
  name: INGEST_DEDUP,
  async run(ctx) {
    const batches = Array.from({ length: RING }, (_, slot) => dedupBatch(slot));
    const linkRows = batches.reduce((n, b) => n + b.near.length, 0) / RING;
    const hopRows = batches.reduce((n, b) => n + b.hops.length, 0) / RING;
    const pool = new pg.Pool({ connectionString: ctx.db.url, max: 1, application_name: 'hopmap-bench' });
    try {
      await pool.query(
        'create table bench_dedup_links (near inet not null, far inet not null, primary key (near, far))',
      );
      await pool.query('create table bench_dedup_hops (address inet primary key)');
      await pool.query('truncate links, hops');

      ctx.progress(`${INGEST_DEDUP}: plain insert … on conflict do nothing, ${ctx.seconds} s`);
      let seq = 0;
      const plain = await measureLoop(loopWindow(ctx), async () => {
        const b = batches[seq++ % RING]!;
        await inTransaction(pool, async (client) => {
          await client.query(PLAIN_LINKS, [b.near, b.far]);
          await client.query(PLAIN_HOPS, [b.hops]);
        });
        return BATCH;
      });

      // Every address gets an AS (about 180 of them, by /24), so the as_links triggers have pairs to keep.
      await enrichAddresses(pool, batches);
      const hopmapLoop = async (triggers: 'on' | 'off') => {
        ctx.progress(
          `${INGEST_DEDUP}: hopmap's upsertLinks + addHops, as_links triggers ${triggers}, ${ctx.seconds} s`,
        );
        await pool.query('truncate links, hops');
        if (triggers === 'off') await pool.query(setTriggers('disable'));
        try {
          let next = 0;
          return await measureLoop(loopWindow(ctx), async () => {
            const b = batches[next++ % RING]!;
            await inTransaction(pool, async (client) => {
              await upsertLinks(client, b.observations);
              await addHops(client, b.hops);
            });
            return BATCH;
          });
        } finally {
          if (triggers === 'off') await pool.query(setTriggers('enable'));
        }
      };
      const hopmap = await hopmapLoop('on');
      const noAsLinks = await hopmapLoop('off');
      const { rows } = await pool.query<{ links: string; hops: string; plain_links: string }>(
        'select (select count(*) from links) as links, (select count(*) from hops) as hops, (select count(*) from bench_dedup_links) as plain_links',
      );

      const figures: Figure[] = [
        figure(
          PLAIN_ID,
          'traces de-duplicated/s, plain insert … on conflict do nothing (links + hops)',
          plain,
          linkRows,
        ),
        {
          ...figure(HOPMAP_ID, "traces de-duplicated/s, hopmap's ingest (upsertLinks + addHops)", hopmap, linkRows),
          baseline: PLAIN_ID,
        },
        {
          ...figure(
            `${INGEST_DEDUP}/hopmap-without-as-links`,
            "traces de-duplicated/s, hopmap's ingest, as_links triggers off",
            noAsLinks,
            linkRows,
          ),
          baseline: HOPMAP_ID,
        },
      ];
      return {
        figures,
        notes: [
          `${INGEST_DEDUP}: the links and hops of batches of ${BATCH} synthetic ${TRACE_HOPS}-hop traceroutes (the ingest-http traces; ${formatCount(linkRows)} link observations ` +
            `and ${formatCount(hopRows)} distinct hops per batch, paths repeating after ${formatCount(RING * BATCH)} traces), one transaction per batch on one connection. ` +
            `Plain: insert … on conflict do nothing of the raw (near, far) pairs and the hops into two bare tables with only their primary keys. ` +
            `hopmap: upsertLinks (aggregated per batch, on conflict do update of count, first/last seen and RTT deltas, as_links triggers) and addHops ` +
            `(skipping addresses inside loaded blocks) into links and hops, as storeResults does, every address given an AS (one per /24) first; ` +
            `the last row runs it again with the insert and update triggers that keep as_links disabled (ratio above 1 = what they cost). Ended with ${formatCount(Number(rows[0]!.links))} links ` +
            `(plain ${formatCount(Number(rows[0]!.plain_links))}) and ${formatCount(Number(rows[0]!.hops))} hops.`,
        ],
      };
    } finally {
      await pool.query('drop table if exists bench_dedup_links, bench_dedup_hops').catch(() => {});
      await pool.query('truncate links, hops').catch(() => {});
      await pool.query('delete from address_info where data_version = $1', [DATA_VERSION]).catch(() => {});
      await pool.end();
    }
  },
};

const loopWindow = (ctx: BenchContext) => ({
  workers: 1,
  warmupMs: ctx.warmupSeconds * 1000,
  durationMs: ctx.seconds * 1000,
  signal: ctx.signal,
});

function figure(id: string, label: string, r: LoopResult, linkRows: number): Figure {
  return {
    id,
    label,
    value: r.itemsPerSecond,
    unit: 'traces/s',
    details: `${formatCount(r.opsPerSecond * linkRows)} link observations/s, ${loopDetails(r, 'tx')}`,
    data: { ...r, batch: BATCH, linkObservationsPerBatch: linkRows },
  };
}

function dedupBatch(slot: number): DedupBatch {
  const extracted = traceBatch(slot * BATCH, BATCH).map(extractLinks);
  const observations = extracted.flatMap((e) => e.links);
  return {
    observations,
    near: observations.map((o) => o.near),
    far: observations.map((o) => o.far),
    // What storeResults hands addHops: the batch's intermediate hops, each once.
    hops: [...new Set(extracted.flatMap((e) => e.hops))],
  };
}

/** address_info rows for every address of the traces: public, AS 64512 + the /24's third octet. */
async function enrichAddresses(pool: pg.Pool, batches: DedupBatch[]): Promise<void> {
  const addresses = [...new Set(batches.flatMap((b) => [...b.near, ...b.far]))];
  await pool.query(
    `insert into address_info (address, kind, asn, as_org, data_version)
     select a, 'public', 64512 + (a - '0.0.0.0'::inet) / 256 % 256, 'bench', '${DATA_VERSION}' from unnest($1::inet[]) a
     on conflict (address) do nothing`,
    [addresses],
  );
}
