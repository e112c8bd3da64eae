import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** A configuration value that is missing, malformed or unknown; the message names the key and where it came from. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfigSources {
  /** Values given on the command line (commander's camelCase keys); only keys the user actually typed. */
  flags?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  /** Path of a YAML or JSON file with snake_case keys. */
  configFile?: string;
  /** Extra environment names per key, e.g. `{ databaseUrl: ['DATABASE_URL'] }`; HOPMAP_<KEY> always works. */
  envAliases?: Record<string, string[]>;
}

export const toSnake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const toKebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const envName = (key: string): string => `HOPMAP_${toSnake(key).toUpperCase()}`;

/**
 * Resolves a configuration object from flags over environment over file over the schema's defaults,
 * then validates it once. Every error names the key and the source it was read from.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, sources: ConfigSources): z.infer<S> {
  const keys = Object.keys(schema.shape);
  const file = sources.configFile ? readConfigFile(sources.configFile) : {};
  const unknown = Object.keys(file).filter((k) => !keys.some((key) => toSnake(key) === k));
  if (unknown.length > 0) {
    throw new ConfigError(
      `${sources.configFile}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${keys.map(toSnake).join(', ')})`,
    );
  }

  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  const env = sources.env ?? {};
  for (const key of keys) {
    const flag = sources.flags?.[key];
    const envNames = [envName(key), ...(sources.envAliases?.[key] ?? [])];
    const envHit = envNames.find((name) => env[name] !== undefined && env[name] !== '');
    if (flag !== undefined) {
      merged[key] = flag;
      origin[key] = `--${toKebab(key)}`;
    } else if (envHit) {
      merged[key] = env[envHit];
      origin[key] = `environment ${envHit}`;
    } else if (file[toSnake(key)] !== undefined) {
      merged[key] = file[toSnake(key)];
      origin[key] = `${sources.configFile}: ${toSnake(key)}`;
    }
  }

  const result = schema.safeParse(merged);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const from = origin[key] ?? `${toSnake(key)} (default)`;
    const rest = issue.path.length > 1 ? `.${issue.path.slice(1).join('.')}` : '';
    return `invalid configuration ${from}${rest}: ${issue.message}`;
  });
  throw new ConfigError(lines.join('\n'));
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ConfigError(`${path}: expected a mapping of keys to values`);
  return parsed as Record<string, unknown>;
}
