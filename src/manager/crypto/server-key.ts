import { hkdfSync, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../config/load-config.js';
import { KEY_BYTES } from './seal.js';

/** How to make a key, for messages that ask for one. */
export const SERVER_KEY_HINT = `${KEY_BYTES} random bytes in base64, e.g. from \`openssl rand -base64 ${KEY_BYTES}\``;

/** The server key from its base64 text, or an error message saying what is wrong with it. */
export function parseServerKey(text: string): { ok: true; key: Buffer } | { ok: false; reason: string } {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return { ok: false, reason: `not base64; expected ${SERVER_KEY_HINT}` };
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES)
    return { ok: false, reason: `decodes to ${key.length} bytes; expected ${SERVER_KEY_HINT}` };
  return { ok: true, key };
}

/**
 * Why a key file may not be used, or undefined when only its owner may read and write it: whoever reads the
 * key opens every sealed secret (TOTP secrets, certificate keys) in a copy of the database.
 */
export function keyFileModeProblem(path: string): string | undefined {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  const octal = mode.toString(8).padStart(4, '0');
  return `${path} has mode ${octal}: the server key must be readable by its owner only; run \`chmod 600 ${path}\``;
}

export const serverKeyPath = (stateDir: string) => join(stateDir, 'server.key');

/**
 * `<stateDir>/server.key` (mode 0600), created with a new random key if missing, for `hopmap up`. Returns the
 * key and where it is kept. Losing the file makes every user's TOTP secret unreadable.
 */
export function ensureServerKeyFile(stateDir: string): { key: Buffer; path: string } {
  const path = serverKeyPath(stateDir);
  mkdirSync(stateDir, { recursive: true });
  // Written aside, then linked into place: link() fails if the file exists, so two processes starting at
  // once keep one key, and nobody reads a file that is still being written.
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(temp, { force: true });
  }
  const problem = keyFileModeProblem(path);
  if (problem) throw new ConfigError(problem);
  const parsed = parseServerKey(readFileSync(path, 'utf8'));
  if (!parsed.ok) throw new Error(`${path}: ${parsed.reason}`);
  return { key: parsed.key, path };
}

/** A key for one purpose derived from the server key (HKDF-SHA256), so every instance derives the same one. */
export function deriveKey(serverKey: Buffer, purpose: string, bytes = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', serverKey, Buffer.alloc(0), `hopmap ${purpose}`, bytes));
}
