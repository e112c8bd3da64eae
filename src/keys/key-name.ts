import { z } from 'zod';

export const KEY_NAME_RULE = '1-64 letters, digits or . _ : @ -';

/**
 * A key's name is also its worker's consumer id (`name`, or `name/<X-Consumer-Id>`), so it keeps to the
 * consumer id alphabet, without the `/` that separates the two. One rule for the CLI and the manager.
 */
export const keyName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'at most 64 characters')
  .regex(/^[A-Za-z0-9._:@-]*$/, `use ${KEY_NAME_RULE}`);

export const isValidKeyName = (name: string): boolean => keyName.safeParse(name).success && name.trim() === name;
