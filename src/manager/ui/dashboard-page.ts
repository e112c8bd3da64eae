import { html, type Html } from '../../web/html.js';

export function dashboardBody(user: string, sections: Html[]): Html {
  const content =
    sections.length > 0
      ? sections
      : [html`<section><h2>Registered services</h2><p>No services registered yet.</p></section>`];
  return html`<p>Signed in as <strong>${user}</strong>.</p>${content}`;
}
