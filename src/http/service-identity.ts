import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { VERSION } from '../version.js';

export const SERVICE_TYPES = ['input', 'ping', 'output', 'manager'] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** What `/service-info` tells a manager about this process, so it can recognise what a URL is. */
export interface ServiceIdentity {
  serviceType: ServiceType;
  name: string;
  version: string;
  instanceId: string;
  capabilities: string[];
}

export function makeIdentity(serviceType: ServiceType, capabilities: string[], name?: string): ServiceIdentity {
  return {
    serviceType,
    name: name ?? `${serviceType}@${hostname()}`,
    version: VERSION,
    instanceId: `${serviceType}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
    capabilities,
  };
}
