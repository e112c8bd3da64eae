import { z } from 'zod';
import { API_KEY_PATTERN } from './key-secret.js';
import { AUTH_MODES } from './require-role.js';

/** `--auth keys|off` of the services. */
export const authMode = () => z.enum(AUTH_MODES, { error: 'expected keys or off' });

/** A key given to a process (`--input-key`); a typo stops the start instead of failing every request. */
export const apiKey = () =>
  z.string().regex(API_KEY_PATTERN, 'expected a hopmap key: hm_ and 43 characters (hopmap keys add NAME --role ROLE)');
