import { VERSION } from '../../version.js';

export interface DyfiAccount {
  /** The update endpoint, https://www.dy.fi/nic/update. */
  url: string;
  domain: string;
  user: string;
  pass: string;
}

/** The part of fetch hopmap uses, so tests can pass one that binds a source address. */
export type FetchLike = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

/** dy.fi's answers (https://www.dy.fi/page/specification), plus `error` for no answer or an unknown one. */
export type DyfiCode = 'good' | 'nochg' | 'badauth' | 'nohost' | 'notfqdn' | 'badip' | 'dnserr' | 'abuse' | 'error';

export interface DyfiResult {
  code: DyfiCode;
  /** The name now points here (good, nochg). */
  ok: boolean;
  /** The address dy.fi set (from `good <ip>`). */
  address?: string;
  /** What to record: dy.fi's line, or the error. */
  text: string;
}

const CODES = new Set<DyfiCode>(['good', 'nochg', 'badauth', 'nohost', 'notfqdn', 'badip', 'dnserr', 'abuse']);

/** Reads dy.fi's one-line answer for one hostname. A 401 is badauth whatever the body says. */
export function parseDyfiReply(status: number, body: string): DyfiResult {
  const line = body.trim().split(/\r?\n/)[0]?.trim() ?? '';
  const [word = '', arg] = line.split(/\s+/);
  if (status === 401) return { code: 'badauth', ok: false, text: 'badauth' };
  if (status === 200 && CODES.has(word as DyfiCode)) {
    const code = word as DyfiCode;
    return {
      code,
      ok: code === 'good' || code === 'nochg',
      ...(code === 'good' && arg ? { address: arg } : {}),
      text: line,
    };
  }
  return { code: 'error', ok: false, text: `error: HTTP ${status}${line ? `: ${line.slice(0, 120)}` : ''}` };
}

/**
 * Points the dy.fi name at the address this request comes from (dy.fi takes no address parameter), with
 * HTTP basic auth. Network failures come back as an `error` result, never thrown.
 */
export async function updateDyfi(
  account: DyfiAccount,
  opts: { fetch?: FetchLike; timeoutMs?: number } = {},
): Promise<DyfiResult> {
  const url = new URL(account.url);
  url.searchParams.set('hostname', account.domain);
  const doFetch = opts.fetch ?? fetch;
  try {
    const res = await doFetch(url.toString(), {
      headers: {
        authorization: `Basic ${Buffer.from(`${account.user}:${account.pass}`).toString('base64')}`,
        'user-agent': `hopmap/${VERSION}`,
      },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    return parseDyfiReply(res.status, await res.text());
  } catch (err) {
    return { code: 'error', ok: false, text: `error: ${(err as Error).message}` };
  }
}
