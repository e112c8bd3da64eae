export interface LabMapPlace {
  /** The run's own database (hopmap_lab_<name>), which keeps the map until the next run of the lab. */
  databaseUrl: string;
  /** The run used the embedded PostgreSQL, which stops when the run ends. */
  embedded: boolean;
  /** `hopmap lab map` with what finds this run's database again (labMapCommand). */
  command: string;
  /** The server came from DATABASE_URL in the environment, which `hopmap lab map` then needs too. */
  serverFromEnv: boolean;
}

/** The manager port `hopmap lab map` serves on by default: next to `hopmap up`'s 8443, so both can run. */
export const LAB_MANAGER_PORT = 8444;

/** The options of `hopmap lab run` that say where its database is, as the user typed them. */
export interface LabRunFlags {
  name?: string | undefined;
  database?: string | undefined;
  databaseUrl?: string | undefined;
  stateDir?: string | undefined;
}

/** The one command that serves a run's map: `hopmap lab map FILE` with the run's own --name, --database … */
export function labMapCommand(file: string, flags: LabRunFlags): string {
  const args = ['hopmap', 'lab', 'map', file];
  if (flags.name) args.push('--name', flags.name);
  if (flags.database) args.push('--database', flags.database);
  if (flags.databaseUrl) args.push('--database-url', withoutPassword(flags.databaseUrl).url);
  if (flags.stateDir) args.push('--state-dir', flags.stateDir);
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/** How to open a finished run's map, the last lines `hopmap lab run` prints. A password in a URL is not printed. */
export function labMapHint(place: LabMapPlace): string[] {
  const { url, hidden } = withoutPassword(place.databaseUrl);
  const lines = [
    'The map of this run stays in its database until the next run of this lab:',
    `  database  ${url}${hidden ? '   (password as in your DATABASE_URL)' : ''}`,
    `  open it   ${place.command}`,
    `            serves it on https://127.0.0.1:${LAB_MANAGER_PORT}/map/graph (also /world, /paths) until Ctrl-C;`,
    '            the first time it makes you a user and shows the TOTP code to scan',
  ];
  if (place.embedded) lines.push('            (it starts the embedded PostgreSQL again, which stopped with the run)');
  else if (place.serverFromEnv) lines.push('            (with the same DATABASE_URL)');
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
