import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CookieOptions, Request } from 'express';
import { deriveKey } from '../crypto/server-key.js';

/** `value.mac`, where mac is an HMAC-SHA256 of the value under a key derived for `purpose` from the server key. */
export interface CookieSigner {
  sign(value: string): string;
  /** The value when the signature holds, else undefined. */
  verify(signed: string | undefined): string | undefined;
}

export function cookieSigner(serverKey: Buffer, purpose: string): CookieSigner {
  const key = deriveKey(serverKey, purpose);
  const mac = (value: string) => createHmac('sha256', key).update(value).digest('base64url');
  return {
    sign: (value) => `${value}.${mac(value)}`,
    verify(signed) {
      if (!signed) return undefined;
      const dot = signed.lastIndexOf('.');
      if (dot <= 0) return undefined;
      const value = signed.slice(0, dot);
      const sent = Buffer.from(signed.slice(dot + 1));
      const expected = Buffer.from(mac(value));
      return sent.length === expected.length && timingSafeEqual(sent, expected) ? value : undefined;
    },
  };
}

/** One cookie of the request, undecoded; the values this manager sets are base64url and dots only. */
export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * For the cookies of an anonymous visitor (login CSRF, pending login): HttpOnly, SameSite=Strict (they only
 * ever travel with the manager's own forms), Secure as the session cookie is.
 */
export const anonymousCookie = (req: Request, cookieSecure: boolean, extra: CookieOptions = {}): CookieOptions => ({
  httpOnly: true,
  sameSite: 'strict',
  secure: cookieSecure || req.secure,
  path: '/',
  encode: String,
  ...extra,
});
