import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet with a strict CSP: scripts and styles from this origin only (no inline ones), no frames, forms post
 * only here. HSTS and upgrade-insecure-requests only when the manager is reached over HTTPS (its own TLS or
 * a TLS-terminating proxy): over plain HTTP the upgrade would send the browser to a port that speaks none.
 */
export function securityHeaders(https: boolean): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    strictTransportSecurity: https ? { maxAge: 365 * 24 * 3600, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'same-origin' },
  });
}
