import type { Response } from 'express';
import type { PageContext } from './layout.js';

/** The operator's name as the app's session middleware leaves it in res.locals.user (a name or `{ name }`). */
export function currentUser(locals: Record<string, unknown>): string | undefined {
  const u = locals.user as { name?: unknown } | string | undefined;
  return typeof u === 'string' ? u : typeof u?.name === 'string' ? u.name : undefined;
}

/** The page frame's context from what the app's session and CSRF middleware left in res.locals (absent before they exist). */
export function pageContext(res: Response, title: string, flash?: PageContext['flash']): PageContext {
  const csrfToken: unknown = res.locals.csrfToken;
  return {
    title,
    user: currentUser(res.locals),
    csrfToken: typeof csrfToken === 'string' ? csrfToken : undefined,
    flash,
  };
}
