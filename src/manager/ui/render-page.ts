import type { Request, Response } from 'express';
import type { Html } from '../../web/html.js';
import { layout, type PageContext } from '../../web/layout.js';

/** Sends a page in the manager's frame, with the signed-in user and the CSRF token for the logout form. */
export function renderPage(
  req: Request,
  res: Response,
  page: { title: string; body: Html; status?: number; flash?: PageContext['flash'] },
): void {
  const user = req.session?.user?.name;
  res
    .status(page.status ?? 200)
    .type('html')
    .send(
      layout(
        { title: page.title, user, csrfToken: user ? (res.locals.csrfToken as string) : undefined, flash: page.flash },
        page.body,
      ),
    );
}
