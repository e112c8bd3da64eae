import type { Logger } from '../../log/create-logger.js';

/**
 * `rate_limited`: too many attempts from the address; `user_rate_limited`: too many wrong codes for the name from
 * all addresses; `too_many_tries`: a pending login used up its tries and must start again.
 */
export type AuthFailureReason =
  | 'unknown_user'
  | 'bad_code'
  | 'replayed_code'
  | 'rate_limited'
  | 'user_rate_limited'
  | 'too_many_tries'
  | 'expired_step';

/**
 * One log line per failed login, in the fixed form fail2ban's filter reads
 * (deploy/fail2ban/filter.d/hopmap-manager.conf): `AUTH_FAILURE ip=<ip> user=<name> reason=<reason>`.
 * `user` must already be log-safe (logSafeName).
 */
export function logAuthFailure(log: Logger, f: { ip: string; user: string; reason: AuthFailureReason }): void {
  // A proxy we trust could still pass on something that is no address; never let it forge a field.
  f = { ...f, ip: f.ip.replace(/[^0-9A-Fa-f:.]/g, '?') };
  log.warn(
    { event: 'auth_failure', ip: f.ip, user: f.user, reason: f.reason },
    `AUTH_FAILURE ip=${f.ip} user=${f.user} reason=${f.reason}`,
  );
}
