import { existsSync } from 'node:fs';
import { serverKeyPath } from '../manager/crypto/server-key.js';

export interface LabMapPlace {
  /** The run's own database (hopmap_lab_<name>), which keeps the map until the next run of the lab. */
  databaseUrl: string;
  /** The run used the embedded PostgreSQL, which stops when the run ends. */
  embedded: boolean;
  stateDir: string;
}

/** The manager port the hint suggests: next to `hopmap up`'s 8443, so both can run. */
export const LAB_MANAGER_PORT = 8444;

/**
 * How to open a finished run's map, the last lines `hopmap lab run` prints. HOOK: when one command serves a
 * lab's map in the manager, replace the `open it` lines below with that command (and keep the database line).
 * Today it is the manager itself on the run's database, with a user made there (the run's database is made
 * afresh at each run, so the user too). A password in the URL is not printed.
 */
export function labMapHint(place: LabMapPlace): string[] {
  const { url, hidden } = withoutPassword(place.databaseUrl);
  const keyFile = serverKeyPath(place.stateDir);
  // `hopmap up` keeps a server key in the state dir; without one, the user gives theirs.
  const [env, key] = existsSync(keyFile) ? ['', ` --server-key-file ${keyFile}`] : ['SERVER_KEY=… ', ''];
  const lines = [
    'The map of this run stays in its database until the next run of this lab:',
    `  database  ${url}${hidden ? '   (password as in your DATABASE_URL)' : ''}`,
  ];
  if (place.embedded)
    lines.push('            the embedded PostgreSQL stopped with the run: hopmap db url starts it again and keeps it');
  lines.push(
    `  open it   ${env}hopmap user add NAME --database-url ${url}${key}`,
    `            ${env}hopmap manager --database-url ${url}${key} --host 127.0.0.1 --port ${LAB_MANAGER_PORT}`,
    `            then https://localhost:${LAB_MANAGER_PORT}/map/graph (also /world, /paths)`,
  );
  return lines;
}

function withoutPassword(databaseUrl: string): { url: string; hidden: boolean } {
  try {
    const u = new URL(databaseUrl);
    if (!u.password) return { url: databaseUrl, hidden: false };
    u.password = '****';
    return { url: u.toString(), hidden: true };
  } catch {
    return { url: databaseUrl, hidden: false };
  }
}
