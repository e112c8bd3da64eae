import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** `hm_` and 32 random bytes in base64url (43 characters). */
export const API_KEY_PATTERN = /^hm_[A-Za-z0-9_-]{43}$/;
/** `hm_` and the first 8 characters (48 bits): finds the row and is safe to show; the hash decides. */
const PREFIX_LENGTH = 3 + 8;

export interface NewSecret {
  key: string;
  prefix: string;
  hash: string;
}

export function generateApiKey(): NewSecret {
  const key = `hm_${randomBytes(32).toString('base64url')}`;
  return { key, prefix: apiKeyPrefix(key), hash: hashApiKey(key) };
}

export const apiKeyPrefix = (key: string): string => key.slice(0, PREFIX_LENGTH);

/** SHA-256, hex: the key is 256 random bits, so a slow password hash would add nothing but latency. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Constant-time comparison of the presented key's hash with the stored one. */
export function keyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
