import { z } from 'zod';
import { parseAddress } from './ip-address.js';

/**
 * A plain IPv4 or IPv6 address as PostgreSQL's inet reads it: no zone index (`%eth0`), brackets, prefix or
 * whitespace (parseAddress alone would trim). The one address schema of every API and file format.
 */
export const isStrictAddress = (s: string): boolean => /^[0-9a-fA-F:.]+$/.test(s) && parseAddress(s) !== null;

export const addressSchema = z
  .string()
  .max(45)
  .refine(isStrictAddress, 'not an IPv4 or IPv6 address (no zone index, brackets or spaces)');
