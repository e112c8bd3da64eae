/**
 * Whether a command may write colour codes (ANSI escapes) to `stream`: only to a terminal, never into a pipe or a
 * file, and not when NO_COLOR is set to anything but the empty string (https://no-color.org).
 */
export function colourAllowed(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true;
}
