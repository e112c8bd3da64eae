import type { BenchCase, Figure } from '../bench-case.js';
import { measureLeaseGrowth } from '../growth-lease.js';
import { measureResultsGrowth, startResultsGrowth } from '../growth-results.js';

export const GROWTH_SMALL = 'growth-small';

/** Sizes `npm run bench` can afford; `npm run bench:growth` (bench/growth.ts) goes to 10^7. */
export const SMALL_TARGETS = [1_000, 100_000];
export const SMALL_RESULTS = [1_000, 100_000];

/** How cost grows with work, at sizes that fit the main bench: lease rate by targets, ingest and queries by stored results. */
export const growthSmall: BenchCase = growthCase(GROWTH_SMALL, SMALL_TARGETS, SMALL_RESULTS);

export function growthCase(name: string, targets: number[], results: number[]): BenchCase {
  return {
    name,
    async run(ctx) {
      const figures: Figure[] = [];
      const notes: string[] = [
        `${name}: lease rate with N targets (N single-address blocks, seeded by SQL) from one \`hopmap input\`, ${ctx.consumers} consumers, beside the raw SQL lease over an N-row queue (1 client); ` +
          `then at N stored results (ping-shaped rows seeded by SQL over 7 daily partitions), output's /recent and /stats and the manager's /api/map/path beside their SQL alone, ` +
          `and the ingest (POST /results, 1 instance, 4 senders of 500 traceroutes) beside raw COPY (4 clients) on top of those rows. Latencies: ratio above 1 is what HTTP adds.`,
      ];
      // Each figure is printed as soon as it is measured: a run of an hour that dies late still leaves them.
      const keep = (r: { figures: Figure[]; notes: string[] }) => {
        for (const f of r.figures) ctx.progress(`figure ${f.id}: ${f.value.toFixed(2)} ${f.unit} (${f.details ?? ''})`);
        figures.push(...r.figures);
        notes.push(...r.notes);
      };
      for (const n of targets) keep(await measureLeaseGrowth(ctx, name, n));
      if (results.length === 0) return { figures, notes };
      const g = await startResultsGrowth(ctx);
      try {
        for (const n of results) keep(await measureResultsGrowth(ctx, name, g, n));
      } finally {
        await g.stop();
      }
      return { figures, notes };
    },
  };
}
