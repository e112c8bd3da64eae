import { z } from 'zod';
import { LOG_LEVELS } from '../log/create-logger.js';

/** Explicit booleans only: a typo such as "ture" is an error, never silently false. */
export const bool = () =>
  z.union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off']).transform((v) => ['true', '1', 'yes', 'on'].includes(v))], {
    error: 'expected true or false',
  });

export const port = () => z.coerce.number({ error: 'expected a port number' }).int('expected a whole number').min(0).max(65535);

export const positiveInt = () => z.coerce.number({ error: 'expected a number' }).int('expected a whole number').positive();

export const postgresUrl = () =>
  z.string().refine((s) => /^postgres(ql)?:\/\//.test(s), 'expected a postgres:// or postgresql:// URL');

export const logLevel = () => z.enum(LOG_LEVELS);
