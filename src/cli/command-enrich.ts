import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addDatabaseOptions } from '../config/common-config.js';
import { DATA_CREDIT_TEXT } from '../map/enrich/data-credit.js';
import { currentDataVersion } from '../map/enrich/data-version.js';
import { enrichPendingHops } from '../map/enrich/enrich-hops-task.js';
import { loadRanges } from '../map/enrich/load-ranges.js';
import { listLocalRanges, loadLocalRanges } from '../map/enrich/local-ranges.js';
import { LocalRangesError, parseLocalRanges, type LocalRange } from '../map/enrich/parse-local-ranges.js';
import { lookupAddresses } from '../map/enrich/lookup-addresses.js';
import { parseAddress } from '../net/ip-address.js';
import { CommandError, runCommand } from './run-command.js';
import { withDatabase } from './with-database.js';

export function enrichCommand(): Command {
  const enrich = new Command('enrich').description(
    'AS numbers, organisations and countries of hop addresses (docs/enrichment.md)',
  );

  const load = addDatabaseOptions(new Command('load')).description(
    'load the installed @ip-location-db range data, if its version differs from the loaded one (one transaction)',
  );
  load.action(
    runCommand(async () => {
      await withDatabase(load, 'enrich', async (pool) => {
        const r = await loadRanges(pool);
        for (const l of r.loaded)
          process.stdout.write(`${l.source}: loaded ${l.rows} ranges from ${l.package}@${l.version}\n`);
        for (const s of r.unchanged) process.stdout.write(`${s}: unchanged\n`);
      });
    }),
  );

  const lookup = addDatabaseOptions(new Command('lookup'))
    .description('print the kind, AS number, AS organisation and country of each address')
    .argument('<address...>', 'IPv4 or IPv6 addresses');
  lookup.action(
    runCommand(async (addresses: string[]) => {
      const bad = addresses.filter((a) => !parseAddress(a));
      if (bad.length) throw new CommandError(`not an IPv4 or IPv6 address: ${bad.join(', ')}`);
      await withDatabase(lookup, 'enrich', async (pool) => {
        if ((await currentDataVersion(pool)) === null)
          process.stderr.write('hopmap: no range data loaded yet; run `hopmap enrich load`\n');
        const found = await lookupAddresses(pool, addresses);
        for (const i of found) {
          const as = i.asn === null ? '-' : `AS${i.asn}`;
          process.stdout.write(`${i.address}\t${i.kind}\t${as}\t${i.asOrg ?? '-'}\t${i.country ?? '-'}\n`);
        }
        // The data's licences ask for credit wherever it is shown; on stderr, so the lines stay plain to parse.
        if (found.some((i) => i.asn !== null || i.country !== null)) process.stderr.write(`${DATA_CREDIT_TEXT}\n`);
      });
    }),
  );

  const hops = addDatabaseOptions(new Command('hops')).description(
    'enrich every hop without address information or with information from older data (what the enrich_hops job does)',
  );
  hops.action(
    runCommand(async () => {
      await withDatabase(hops, 'enrich', async (pool) => {
        if ((await currentDataVersion(pool)) === null)
          throw new CommandError('no range data loaded yet; run `hopmap enrich load` first');
        process.stdout.write(
          `${await enrichPendingHops(pool, { maxBatches: Number.MAX_SAFE_INTEGER })} hop addresses enriched\n`,
        );
      });
    }),
  );

  const local = addDatabaseOptions(new Command('local'))
    .description(
      'declare prefix → AS (and organisation, country) for space the public data does not cover: a CSV of prefix,asn,org[,country] replacing the declared set (docs/enrichment.md)',
    )
    .argument('[file]', 'CSV file')
    .option('--clear', 'remove every declared range')
    .option('--list', 'print the declared ranges');
  local.action(
    runCommand(async (file: string | undefined) => {
      const o = local.opts<{ clear?: boolean; list?: boolean }>();
      if ([file !== undefined, o.clear, o.list].filter(Boolean).length !== 1)
        throw new CommandError('give a CSV file, --clear or --list');
      let ranges: LocalRange[] = [];
      if (file !== undefined) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          throw new CommandError(`${file}: ${(err as Error).message}`);
        }
        try {
          ranges = parseLocalRanges(text);
        } catch (err) {
          if (err instanceof LocalRangesError) throw new CommandError(`${file}: ${err.message}`);
          throw err;
        }
        if (ranges.length === 0)
          throw new CommandError(`${file}: no ranges; use --clear to remove the declared ranges`);
      }
      await withDatabase(local, 'enrich', async (pool) => {
        if (o.list) {
          for (const r of await listLocalRanges(pool))
            process.stdout.write(`${r.prefix}\tAS${r.asn}\t${r.org}\t${r.country ?? '-'}\n`);
          return;
        }
        const r = await loadLocalRanges(pool, ranges);
        if (!r.changed) process.stdout.write(`local: unchanged (${r.ranges} declared ranges)\n`);
        else if (r.version === null)
          process.stdout.write(
            'local: cleared; hops are looked up again (`hopmap enrich hops`, or the enrich_hops job within a minute)\n',
          );
        else
          process.stdout.write(
            `local: loaded ${r.ranges} declared ranges (local-ranges@${r.version}); hops are looked up again (\`hopmap enrich hops\`, or the enrich_hops job within a minute)\n`,
          );
      });
    }),
  );

  return enrich.addCommand(load).addCommand(lookup).addCommand(hops).addCommand(local);
}
