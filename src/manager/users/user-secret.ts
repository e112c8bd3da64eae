import { randomBytes } from 'node:crypto';
import { KEY_BYTES, open, seal } from '../crypto/seal.js';

export interface SealedUserSecret {
  userKeySealed: string;
  totpSecretSealed: string;
}

/**
 * Seals a TOTP secret twice: with a fresh key of the user's own, which is sealed with the server key. Both are
 * bound to the user's name, so sealed values swapped between rows do not open.
 */
export function sealUserSecret(serverKey: Buffer, name: string, totpSecret: Buffer): SealedUserSecret {
  const userKey = randomBytes(KEY_BYTES);
  return {
    userKeySealed: seal(serverKey, userKey, `user key of ${name}`),
    totpSecretSealed: seal(userKey, totpSecret, `TOTP secret of ${name}`),
  };
}

/** The TOTP secret; throws SealError when the server key is not the one it was sealed with or a value changed. */
export function openUserSecret(serverKey: Buffer, name: string, sealed: SealedUserSecret): Buffer {
  const userKey = open(serverKey, sealed.userKeySealed, `user key of ${name}`);
  return open(userKey, sealed.totpSecretSealed, `TOTP secret of ${name}`);
}
