import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION: string = pkg.version;
export const PROJECT_ROOT: string = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
/** The CLI entry point, for spawning hopmap's own commands as child processes. */
export const BIN_PATH: string = `${PROJECT_ROOT}/bin/hopmap.js`;
