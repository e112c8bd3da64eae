import { parseAddress, parseTarget, type Address, type Block } from '../../src/net/ip-address.js';

/** Test setup: an address or CIDR the test writes by hand, which must parse. */
export function address(text: string): Address {
  const a = parseAddress(text);
  if (!a) throw new Error(`test setup: ${text} should parse as an address`);
  return a;
}

export function block(text: string): Block {
  const parsed = parseTarget(text);
  if (!parsed.ok) throw new Error(`test setup: ${text} should parse: ${parsed.reason}`);
  return parsed.block;
}
