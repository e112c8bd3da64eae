import type { ServiceMetrics } from '../http/service-metrics.js';

export type InputMetrics = ReturnType<typeof inputMetrics>;

export function inputMetrics(metrics: ServiceMetrics) {
  return {
    targetsServed: metrics.counter('targets_served_total', 'targets handed to consumers, re-served ones included'),
    leasesIssued: metrics.counter('leases_issued_total', 'leases issued'),
    leasesReissued: metrics.counter(
      'leases_reissued_total',
      'expired leases whose unacknowledged targets were served again',
    ),
    targetsReissued: metrics.counter('targets_reissued_total', 'targets served again from expired leases'),
    targetsSetAside: metrics.counter(
      'targets_set_aside_total',
      'unacknowledged targets re-issued --max-reissues times, not served again in their pass',
    ),
    hopsReceived: metrics.counter('hops_received_total', 'hop addresses received on POST /hops'),
    hopsNew: metrics.counter('hops_new_total', 'hops added to the target pool'),
    hopsDuplicate: metrics.counter('hops_duplicate_total', 'hops already known'),
    hopsCovered: metrics.counter('hops_covered_total', 'hops inside a loaded block'),
    hopsRejected: metrics.counter('hops_rejected_total', 'hop entries that were not addresses'),
    consumerServed: metrics.gauge('consumer_served_in_pass', 'targets served to a consumer in its current pass', [
      'consumer',
    ]),
    consumerPass: metrics.gauge('consumer_pass', 'the pass number a consumer is on', ['consumer']),
  };
}
