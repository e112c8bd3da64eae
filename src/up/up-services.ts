import { PROJECT_ROOT } from '../version.js';

/** The services `hopmap up` runs, each as a supervised child on its default local port; later issues add theirs. */
export interface UpService {
  command: string;
  /** The config key of `hopmap up` that sets this service's port. */
  portKey: 'inputPort' | 'outputPort' | 'managerPort';
  port: number;
  /** The config key of `hopmap up` that sets this service's separate health port, if it has one. */
  healthPortKey?: 'outputHealthPort';
  /** Extra arguments the local single-machine setup needs. */
  args?: string[];
  /** Gets `--server-key-file` with the key `up` keeps in its state dir. */
  serverKey?: boolean;
  /** Serves HTTPS (the manager, with a self-signed certificate kept in the database). */
  https?: boolean;
}

export const UP_SERVICES: UpService[] = [
  {
    command: 'input',
    portKey: 'inputPort',
    port: 8080,
    args: ['--targets', `${PROJECT_ROOT}/cloud-provider-ip-addresses`],
  },
  { command: 'output', portKey: 'outputPort', port: 8081, healthPortKey: 'outputHealthPort' },
  {
    command: 'manager',
    portKey: 'managerPort',
    port: 8443,
    serverKey: true,
    https: true,
    args: ['--tls', 'self-signed'],
  },
];
