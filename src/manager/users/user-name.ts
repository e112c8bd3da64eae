/** Lower case so that a phone's automatic capital at login does not lock anyone out. */
const USER_NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;

export const USER_NAME_RULE =
  "1-64 characters: lower-case letters, digits, '.', '_', '-' or '@', starting with a letter or digit";

export function isValidUserName(name: string): boolean {
  return USER_NAME.test(name);
}

/** What a person typed at login, as a user name would be stored. */
export function normaliseLoginName(typed: string): string {
  return typed.trim().toLowerCase();
}

/**
 * A typed name made safe for one log line that fail2ban parses: no spaces or quotes that could forge
 * another field, and bounded in length.
 */
export function logSafeName(typed: string | undefined): string {
  if (!typed) return '-';
  return typed.slice(0, 64).replace(/[^A-Za-z0-9._@-]/g, '?');
}
