import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputService, type InputOptions } from '../../src/input/input-service.js';
import { startService, type RunningService } from '../../src/service/start-service.js';
import { formatAddress, parseTarget, prefixKey } from '../../src/net/ip-address.js';
import { request, type HttpResponse } from './http-client.js';
import { quietLog } from './test-databases.js';

export function writeTargetDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'hopmap-targets-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export function startInput(databaseUrl: string, opts: Partial<InputOptions> = {}): Promise<RunningService> {
  return startService(
    inputService({ ipv6: false, allow: [], leaseTtlMs: 300_000, passCooldownMs: 3_600_000, maxBatch: 1000, ...opts }),
    { databaseUrl, host: '127.0.0.1', port: 0, log: quietLog },
  );
}

/** Every address of the CIDRs, expanded by the test itself (independently of the server's walk). */
export function expand(...cidrs: string[]): string[] {
  return cidrs.flatMap((c) => {
    const parsed = parseTarget(c);
    if (!parsed.ok) throw new Error(parsed.reason);
    const out: string[] = [];
    for (let i = 0n; i < parsed.block.size; i++)
      out.push(formatAddress({ family: parsed.block.family, value: parsed.block.first + i }));
    return out;
  });
}

export const slash24 = (address: string): string => {
  const parsed = parseTarget(address);
  if (!parsed.ok) throw new Error(parsed.reason);
  return prefixKey({ family: parsed.block.family, value: parsed.block.first });
};

export interface Batch {
  lease: string | null;
  targets: string[];
  retry_after_seconds?: number;
}

/** `headers` carry a key when the input requires one (test/support/keys.ts). */
export async function fetchBatch(
  baseUrl: string,
  consumer: string,
  n: number,
  headers: Record<string, string> = {},
): Promise<Batch> {
  const res: HttpResponse = await request(`${baseUrl}/targets?n=${n}`, {
    headers: { 'x-consumer-id': consumer, ...headers },
  });
  if (res.status !== 200) throw new Error(`GET /targets: ${res.status} ${res.text}`);
  return res.json();
}

/**
 * Asserts the interleaving rule over one consumer's sequence: two consecutive addresses share a /24 only
 * when everything the consumer received from there on is in that one /24. Returns the violations.
 */
export function interleavingViolations(sequence: string[]): string[] {
  const prefixes = sequence.map(slash24);
  const violations: string[] = [];
  for (let i = 0; i + 1 < sequence.length; i++) {
    if (prefixes[i] !== prefixes[i + 1]) continue;
    const rest = new Set(prefixes.slice(i + 1));
    if (rest.size > 1)
      violations.push(`${sequence[i]} then ${sequence[i + 1]} at ${i} while ${rest.size} /24s remained`);
  }
  return violations;
}
