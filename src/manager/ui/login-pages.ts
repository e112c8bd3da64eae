import { html, type Html } from '../../web/html.js';

/** Step 1: the user name. Every name gets the same answer, so the form tells nobody which names exist. */
export function loginNameForm(csrfToken: string): Html {
  return html`<form method="post" action="/login" class="login">
<input type="hidden" name="_csrf" value="${csrfToken}">
<p><label for="name">User name</label><br>
<input id="name" name="name" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required autofocus></p>
<p><button type="submit">Continue</button></p>
</form>`;
}

/** Step 2: the code from the authenticator app. */
export function loginCodeForm(csrfToken: string, name: string): Html {
  return html`<form method="post" action="/login/totp" class="login">
<input type="hidden" name="_csrf" value="${csrfToken}">
<p><label for="code">6-digit code from your authenticator app for <strong>${name}</strong></label><br>
<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus></p>
<p><button type="submit">Log in</button> <a href="/login">Not ${name}?</a></p>
</form>`;
}
