import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

/** A sealed value that does not open: the wrong key, or data changed since it was sealed. */
export class SealError extends Error {
  override name = 'SealError';
}

/**
 * AES-256-GCM with a fresh random 12-byte IV (NIST SP 800-38D §8.2.2: random IVs are safe for up to 2^32
 * messages per key). `context` is bound as additional data, so a value moved to another row or purpose
 * does not open. Returns base64 of iv | tag | ciphertext.
 */
export function seal(key: Buffer, plaintext: Buffer, context: string): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

export function open(key: Buffer, sealed: string, context: string): Buffer {
  assertKey(key);
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new SealError(`sealed ${context} is too short to be a sealed value`);
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new SealError(
      `sealed ${context} does not open: wrong key (is SERVER_KEY the one it was sealed with?) or the stored value was tampered with`,
    );
  }
}

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new SealError(`a sealing key must be ${KEY_BYTES} bytes, got ${key.length}`);
}

/** `seal`/`open` with the key and context fixed, for code that should never hold the key itself. */
export function createSealer(
  key: Buffer,
  context: string,
): { seal(plain: Buffer | string): string; open(sealed: string): Buffer } {
  assertKey(key);
  return {
    seal: (plain) => seal(key, typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain, context),
    open: (sealed) => open(key, sealed, context),
  };
}
