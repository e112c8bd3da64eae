import { html, type Html } from './html.js';

export interface PageContext {
  title: string;
  /** The signed-in user, if any: shows the navigation and the logout form. */
  user?: string | undefined;
  /** The session's CSRF token, for every form that changes something (hidden field `_csrf`). */
  csrfToken?: string | undefined;
  /** A notice shown above the page (after a form was handled). */
  flash?: { kind: 'ok' | 'error'; message: string } | undefined;
  /** A line below the page, such as the credit a page showing AS or country data must carry. */
  footer?: Html | undefined;
}

/**
 * The manager's page frame: server-rendered, no JavaScript needed for the basics, readable on a phone. Styles
 * come from /static/manager.css: the CSP allows no inline style or script.
 */
export function layout(ctx: PageContext, body: Html): string {
  const nav = ctx.user
    ? html`<nav><a href="/">Dashboard</a> <a href="/workers">Workers</a> <a href="/paths">Paths</a> <a href="/map/graph">Graph</a> <a href="/world">World map</a> <a href="/api-keys">API keys</a>
        <form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${ctx.csrfToken}"><button type="submit">Log out ${ctx.user}</button></form></nav>`
    : html``;
  const flash = ctx.flash ? html`<p class="flash ${ctx.flash.kind}" role="status">${ctx.flash.message}</p>` : html``;
  const footer = ctx.footer ? html`<footer>${ctx.footer}</footer>` : html``;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${ctx.title} · hopmap</title><link rel="icon" href="/static/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/static/manager.css"></head>
<body><header><strong>hopmap</strong> ${nav}</header><main><h1>${ctx.title}</h1>${flash}${body}</main>${footer}</body></html>`
    .value;
}
