import { randomBytes } from 'node:crypto';
import { generateURI, ScureBase32Plugin, verify } from 'otplib';

/** RFC 6238 defaults that every authenticator app understands: SHA-1, 6 digits, 30 s steps. */
export const TOTP_PERIOD_S = 30;
const SECRET_BYTES = 20; // RFC 4226 §4 recommends 160 bits
const base32 = new ScureBase32Plugin();

export const newTotpSecret = (): Buffer => randomBytes(SECRET_BYTES);

export const totpSecretBase32 = (secret: Uint8Array): string => base32.encode(secret);

/** `otpauth://totp/hopmap:NAME?secret=…&issuer=hopmap`, what an authenticator app scans. */
export function totpUri(name: string, secret: Uint8Array): string {
  return generateURI({ issuer: 'hopmap', label: name, secret: totpSecretBase32(secret) });
}

export type TotpCheck = { ok: true; step: number } | { ok: false };

/**
 * Checks a 6-digit code against the secret, accepting one step of clock skew either way. On success returns
 * the time step the code belongs to; the caller refuses a step it has already accepted (a replay).
 */
export async function checkTotp(secret: Uint8Array, code: string, nowMs = Date.now()): Promise<TotpCheck> {
  if (!/^\d{6}$/.test(code)) return { ok: false };
  const result = await verify({
    secret: totpSecretBase32(secret),
    token: code,
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: TOTP_PERIOD_S,
  });
  // The union also holds HOTP's result type, which has no time step.
  return result.valid && 'timeStep' in result ? { ok: true, step: result.timeStep } : { ok: false };
}
