// Generates cloud-provider-ip-addresses/<provider>.txt, hopmap's default
// bootstrap target set, from the @ip-location-db/asn IPv4 → ASN table.
// Usage: npm run bootstrap:targets   (see docs/bootstrap-targets.md)

import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ASN_CSV_FILE,
  ASN_PACKAGE,
  type AsnTable,
  locateAsnDataset,
  readAsnTable,
} from './bootstrap-targets/asn-data.js';
import { BOGONS, formatIpv4, mergeRanges, subtractRanges } from './bootstrap-targets/ipv4.js';
import {
  type GenerationInfo,
  type ProviderResult,
  renderSummary,
  renderTargetFile,
} from './bootstrap-targets/output.js';
import { PROVIDERS, type Provider } from './bootstrap-targets/providers.js';
import {
  type Slash24Set,
  allocateBudget,
  enumerateSlash24s,
  hashString,
  pickAddress,
  sampleSlash24s,
} from './bootstrap-targets/sampling.js';

/** Total addresses across all providers. */
const TOTAL_BUDGET = 19_000;
/** Every provider keeps at least this many /24s (all of them if it has fewer). */
const MIN_PER_PROVIDER = 250;
/** Changing the seed reshuffles every target; bump it only deliberately. */
const SEED = 'hopmap-bootstrap-v1';
const RANK_SEED = hashString(`${SEED}/slash24`);
const HOST_SEED = hashString(`${SEED}/host`);

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUT_DIR = join(REPO_ROOT, 'cloud-provider-ip-addresses');

interface ProviderSpace {
  readonly provider: Provider;
  readonly rows: number;
  readonly slash24s: Slash24Set;
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  assertUniqueConfig(PROVIDERS);
  const dataset = locateAsnDataset();
  const wanted = new Set(PROVIDERS.flatMap((p) => p.asns.map((a) => a.asn)));
  const table = await readAsnTable(dataset.csvPath, wanted);
  const warnings = PROVIDERS.flatMap((p) => checkProviderAsns(p, table));

  const spaces = PROVIDERS.map((provider) => providerSpace(provider, table));
  const caps = allocateBudget(
    spaces.map((s) => s.slash24s.prefixes.length),
    TOTAL_BUDGET,
    MIN_PER_PROVIDER,
  );
  const results = spaces.map((space, i) => sampleProvider(space, caps[i] ?? 0, table));
  warnings.push(...findCrossProviderDuplicates(results));

  const info: GenerationInfo = {
    packageName: ASN_PACKAGE,
    packageVersion: dataset.version,
    csvFile: ASN_CSV_FILE,
    seed: SEED,
    budget: TOTAL_BUDGET,
    minPerProvider: MIN_PER_PROVIDER,
  };
  writeOutputs(results, info);

  for (const warning of warnings) console.warn(`WARNING: ${warning}`);
  console.log(`\n${ASN_PACKAGE} ${dataset.version} → ${relative(process.cwd(), OUTPUT_DIR) || '.'}/\n`);
  console.log(renderSummary(results));
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(2);
  console.log(`\n${results.length} files written in ${seconds}s, ${warnings.length} warning(s).`);
}

function assertUniqueConfig(providers: readonly Provider[]): void {
  const slugs = new Set<string>();
  const asns = new Map<number, string>();
  for (const { slug, asns: entries } of providers) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug)) throw new Error(`slug is not kebab-case: ${slug}`);
    if (slugs.has(slug)) throw new Error(`duplicate provider slug: ${slug}`);
    slugs.add(slug);
    for (const { asn } of entries) {
      const owner = asns.get(asn);
      if (owner) throw new Error(`AS${asn} listed for both ${owner} and ${slug}`);
      asns.set(asn, slug);
    }
  }
}

// Guards against ASN typos and ASNs that changed hands since the list was written.
function checkProviderAsns(provider: Provider, table: AsnTable): string[] {
  const warnings: string[] = [];
  for (const { asn, org } of provider.asns) {
    const orgs = [...(table.orgs.get(asn) ?? [])];
    if (orgs.length === 0) {
      warnings.push(`${provider.slug}: AS${asn} (${org}) has no IPv4 rows in ${ASN_CSV_FILE}`);
    }
    for (const seen of orgs.filter((o) => !provider.orgPattern.test(o))) {
      warnings.push(`${provider.slug}: AS${asn} org in data is "${seen}", expected ${provider.orgPattern}`);
    }
  }
  return warnings;
}

function providerSpace(provider: Provider, table: AsnTable): ProviderSpace {
  const rows = provider.asns.flatMap(({ asn }) => table.ranges.get(asn) ?? []);
  const routable = subtractRanges(mergeRanges(rows), BOGONS);
  return { provider, rows: rows.length, slash24s: enumerateSlash24s(routable) };
}

function sampleProvider(space: ProviderSpace, cap: number, table: AsnTable): ProviderResult {
  const chosen = sampleSlash24s(space.slash24s.prefixes, cap, RANK_SEED);
  // Prefixes are sorted and the address stays inside its /24, so addresses are sorted too.
  const addresses = chosen.map((prefix) => pickAddress(space.slash24s, prefix, HOST_SEED));
  const orgsByAsn = new Map(
    space.provider.asns.map(({ asn }) => [asn, [...(table.orgs.get(asn) ?? [])].sort()] as const),
  );
  return {
    provider: space.provider,
    orgsByAsn,
    rows: space.rows,
    slash24s: space.slash24s.prefixes.length,
    cap,
    addresses,
  };
}

// Data rows should not overlap, but a shared /24 would make two files probe it.
function findCrossProviderDuplicates(results: readonly ProviderResult[]): string[] {
  const owners = new Map<number, string>();
  const warnings: string[] = [];
  for (const { provider, addresses } of results) {
    for (const address of addresses) {
      const prefix = address >>> 8;
      const owner = owners.get(prefix);
      if (owner) warnings.push(`${formatIpv4(prefix * 256)}/24 sampled for ${owner} and ${provider.slug}`);
      else owners.set(prefix, provider.slug);
    }
  }
  return warnings;
}

function writeOutputs(results: readonly ProviderResult[], info: GenerationInfo): void {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const written = new Set<string>();
  for (const result of results) {
    const file = `${result.provider.slug}.txt`;
    writeFileSync(join(OUTPUT_DIR, file), renderTargetFile(result, info));
    written.add(file);
  }
  // The folder is fully generated: drop files of providers removed from the list.
  for (const file of readdirSync(OUTPUT_DIR)) {
    if (file.endsWith('.txt') && !written.has(file)) {
      rmSync(join(OUTPUT_DIR, file));
      console.log(`removed stale ${file}`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
