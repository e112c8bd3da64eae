import type { ServiceMetrics } from '../http/service-metrics.js';

export type OutputMetrics = ReturnType<typeof outputMetrics>;

export function outputMetrics(metrics: ServiceMetrics) {
  return {
    accepted: metrics.counter('results_accepted_total', 'results stored'),
    duplicate: metrics.counter('results_duplicate_total', 'results already stored (same id), skipped'),
    rejected: metrics.counter('results_rejected_total', 'items that failed the result schema'),
    hopsNew: metrics.counter('hops_new_total', 'intermediate hops added to the target pool'),
    routeChanges: metrics.counter('route_changes_total', 'traces whose route took another path than before'),
  };
}
