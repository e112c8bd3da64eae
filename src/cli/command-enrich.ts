import { Command } from 'commander';
import { z } from 'zod';
import { addDatabaseOptions, databaseConfigShape, loadCommandConfig } from '../config/common-config.js';
import { createPool, type Pool } from '../db/create-pool.js';
import { migrateDatabase } from '../db/migrate.js';
import { resolveDatabase } from '../db/resolve-database.js';
import { createLogger } from '../log/create-logger.js';
import { currentDataVersion } from '../map/enrich/data-version.js';
import { enrichPendingHops } from '../map/enrich/enrich-hops-task.js';
import { loadRanges } from '../map/enrich/load-ranges.js';
import { lookupAddresses } from '../map/enrich/lookup-addresses.js';
import { parseAddress } from '../targets/ip-address.js';
import { CommandError, runCommand } from './run-command.js';

/** Runs `fn` against the configured (or embedded) database, migrated first. */
async function withDatabase(cmd: Command, fn: (pool: Pool) => Promise<void>): Promise<void> {
  const cfg = loadCommandConfig(cmd, z.object(databaseConfigShape));
  const log = createLogger({ level: cfg.verbose ? 'debug' : cfg.logLevel === 'info' ? 'warn' : cfg.logLevel, name: 'enrich' });
  const db = await resolveDatabase(cfg, log);
  const pool = createPool(db.url, log, { max: 2 });
  try {
    await migrateDatabase(db.url, log);
    await fn(pool);
  } finally {
    await pool.end();
    if (db.embedded?.startedHere) await db.embedded.cluster.stop();
  }
}

export function enrichCommand(): Command {
  const enrich = new Command('enrich').description('AS numbers, organisations and countries of hop addresses (docs/enrichment.md)');

  const load = addDatabaseOptions(new Command('load')).description(
    'load the installed @ip-location-db range data, if its version differs from the loaded one (one transaction)',
  );
  load.action(
    runCommand(async () => {
      await withDatabase(load, async (pool) => {
        const r = await loadRanges(pool);
        for (const l of r.loaded) process.stdout.write(`${l.source}: loaded ${l.rows} ranges from ${l.package}@${l.version}\n`);
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
      await withDatabase(lookup, async (pool) => {
        if ((await currentDataVersion(pool)) === null) process.stderr.write('hopmap: no range data loaded yet; run `hopmap enrich load`\n');
        for (const i of await lookupAddresses(pool, addresses)) {
          const as = i.asn === null ? '-' : `AS${i.asn}`;
          process.stdout.write(`${i.address}\t${i.kind}\t${as}\t${i.asOrg ?? '-'}\t${i.country ?? '-'}\n`);
        }
      });
    }),
  );

  const hops = addDatabaseOptions(new Command('hops')).description(
    'enrich every hop without address information or with information from older data (what the enrich_hops job does)',
  );
  hops.action(
    runCommand(async () => {
      await withDatabase(hops, async (pool) => {
        if ((await currentDataVersion(pool)) === null) throw new CommandError('no range data loaded yet; run `hopmap enrich load` first');
        process.stdout.write(`${await enrichPendingHops(pool, { maxBatches: Number.MAX_SAFE_INTEGER })} hop addresses enriched\n`);
      });
    }),
  );

  return enrich.addCommand(load).addCommand(lookup).addCommand(hops);
}
