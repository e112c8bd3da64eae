import type { Request } from 'express';
import { formatAddress, parseAddress } from '../../net/ip-address.js';

/** The client's address as a person (and fail2ban) reads it: `::ffff:192.0.2.1` is `192.0.2.1`. */
export function clientAddress(req: Request): string {
  const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/**
 * What rate limits count by: the IPv4 address, or the IPv6 /64, since one host commonly holds a whole /64
 * (RFC 6177) and could otherwise take a fresh address for every attempt.
 */
export function addressBucket(ip: string): string {
  const a = parseAddress(ip);
  if (!a || a.family === 4) return ip;
  const network = (a.value >> 64n) << 64n;
  return `${formatAddress({ family: 6, value: network })}/64`;
}
