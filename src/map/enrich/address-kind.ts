import { addressInBlock, type Address } from '../../net/ip-address.js';
import { RESERVED_RANGES } from '../../net/reserved-ranges.js';

export type AddressKind =
  | 'public'
  | 'private'
  | 'shared'
  | 'loopback'
  | 'link-local'
  | 'documentation'
  | 'benchmarking'
  | 'multicast'
  | 'reserved';

/**
 * The kind of each special-purpose range hopmap already refuses to probe (reserved-ranges.ts); every other range
 * of that list (0/8, 240/4, 6to4, IPv6 outside 2000::/3 …) is `reserved`. The most specific range wins, so
 * ::1 is loopback although ::/3 holds it.
 */
export const KIND_BY_CIDR: Readonly<Record<string, AddressKind>> = {
  '10.0.0.0/8': 'private',
  '172.16.0.0/12': 'private',
  '192.168.0.0/16': 'private',
  'fc00::/7': 'private',
  '100.64.0.0/10': 'shared',
  '127.0.0.0/8': 'loopback',
  '::1/128': 'loopback',
  '169.254.0.0/16': 'link-local',
  'fe80::/10': 'link-local',
  '192.0.2.0/24': 'documentation',
  '198.51.100.0/24': 'documentation',
  '203.0.113.0/24': 'documentation',
  '2001:db8::/32': 'documentation',
  '3fff::/20': 'documentation',
  '198.18.0.0/15': 'benchmarking',
  '2001:2::/48': 'benchmarking',
  '224.0.0.0/4': 'multicast',
  'ff00::/8': 'multicast',
};

const RANGES = RESERVED_RANGES.map((r) => ({ block: r.block, kind: KIND_BY_CIDR[r.block.cidr] ?? 'reserved' })).sort(
  (a, b) => b.block.prefixLength - a.block.prefixLength,
);

/** Only `public` addresses are ever looked up in the AS and country data. */
export function addressKind(a: Address): AddressKind {
  return RANGES.find((r) => addressInBlock(a, r.block))?.kind ?? 'public';
}
