import { startServiceInstance, type ServiceInstance, type ServiceInstanceOptions } from './service-instances.js';

export type OutputInstance = ServiceInstance;

/**
 * `hopmap output`, ready once GET /ready answers 200 (its start-up has then run
 * measurements.ensure_partitions). `--health-port 0`: the default 8091 would collide between two instances.
 */
export function startOutputInstance(opts: ServiceInstanceOptions): Promise<OutputInstance> {
  return startServiceInstance('output', ['--health-port', '0'], opts);
}
