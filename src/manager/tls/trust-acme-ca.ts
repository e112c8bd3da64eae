import https from 'node:https';
import * as acme from 'acme-client';

const agents = new Map<string, https.Agent>();
let installed = false;

/**
 * Makes acme-client trust `caPem` for requests to `directoryUrl`'s origin only (a private or test CA such as
 * pebble), never process-wide. acme-client sends every request through one shared axios instance and takes no
 * agent per client, so an interceptor picks the agent by origin.
 */
export function trustAcmeCa(directoryUrl: string, caPem: string): void {
  agents.set(new URL(directoryUrl).origin, new https.Agent({ ca: caPem }));
  if (installed) return;
  installed = true;
  acme.axios.interceptors.request.use((config) => {
    const agent = URL.canParse(config.url ?? '') ? agents.get(new URL(config.url!).origin) : undefined;
    if (agent) config.httpsAgent = agent;
    return config;
  });
}
