import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { keyFileModeProblem, parseServerKey, SERVER_KEY_HINT } from './server-key.js';

const keyText = (text: string, ctx: z.RefinementCtx): Buffer => {
  const parsed = parseServerKey(text);
  if (parsed.ok) return parsed.key;
  ctx.addIssue({ code: 'custom', message: parsed.reason });
  return z.NEVER;
};

/** Configuration keys for the server key: `server_key` (env SERVER_KEY, never a flag: argv is public) or a file of mode 0600 or stricter. */
export const serverKeyShape = {
  serverKey: z.string().transform(keyText).optional(),
  serverKeyFile: z
    .string()
    .min(1)
    .transform((path, ctx) => {
      try {
        const problem = keyFileModeProblem(path);
        if (problem) {
          ctx.addIssue({ code: 'custom', message: problem });
          return z.NEVER;
        }
        return keyText(readFileSync(path, 'utf8'), ctx);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `cannot read ${path}: ${(err as Error).message}` });
        return z.NEVER;
      }
    })
    .optional(),
};

/** For `.superRefine`: the command cannot run without a server key, and says how to make one. */
export function requireServerKey(
  cfg: { serverKey?: Buffer | undefined; serverKeyFile?: Buffer | undefined },
  ctx: z.RefinementCtx,
): void {
  if (cfg.serverKey || cfg.serverKeyFile) return;
  ctx.addIssue({
    code: 'custom',
    path: ['serverKey'],
    message: `missing: set SERVER_KEY to ${SERVER_KEY_HINT} (or server_key in the config file, or --server-key-file FILE); keep it safe and the same on every manager instance`,
  });
}

export const serverKeyOf = (cfg: { serverKey?: Buffer | undefined; serverKeyFile?: Buffer | undefined }): Buffer => {
  const key = cfg.serverKey ?? cfg.serverKeyFile;
  if (!key) throw new Error('no server key: the configuration schema should have required one');
  return key;
};
