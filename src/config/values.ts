import { z } from 'zod';
import { LOG_LEVELS } from '../log/create-logger.js';

/** Explicit booleans only: a typo such as "ture" is an error, never silently false. */
export const bool = () =>
  z.union(
    [
      z.boolean(),
      z
        .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
        .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
    ],
    {
      error: 'expected true or false',
    },
  );

export const port = () =>
  z.coerce.number({ error: 'expected a port number' }).int('expected a whole number').min(0).max(65535);

export const positiveInt = () =>
  z.coerce.number({ error: 'expected a number' }).int('expected a whole number').positive();

export const postgresUrl = () =>
  z.string().refine((s) => /^postgres(ql)?:\/\//.test(s), 'expected a postgres:// or postgresql:// URL');

export const logLevel = () => z.enum(LOG_LEVELS);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration in milliseconds, written as `250ms`, `90s`, `5m`, `1h`, `2d`, or a bare number of seconds. */
export const duration = () =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(String(v));
    if (!m) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as 90s, 5m or 1h' });
      return z.NEVER;
    }
    return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
  });

/** A list given as an array (config file) or comma-separated text (flag, environment). */
export const list = () =>
  z
    // YAML reads `[443, 80]` as numbers; a list of ports is as valid written that way as quoted.
    .union([z.array(z.union([z.string(), z.number()])), z.string()])
    .transform((v) => (Array.isArray(v) ? v.map(String) : v.split(',')).map((s) => s.trim()).filter(Boolean));
