import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One prom-client registry per service instance (tests run several in one process), holding the default
 * process metrics, HTTP timings and the service's own counters. The counters also appear on /health.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly counters = new Map<string, Counter<string>>();

  constructor(readonly serviceType: string) {
    this.registry.setDefaultLabels({ service: serviceType });
    collectDefaultMetrics({ register: this.registry, prefix: 'hopmap_' });
    this.httpDuration = new Histogram({
      name: 'hopmap_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers: [this.registry],
    });
  }

  /** A counter named `hopmap_<name>`, listed on /health as `<name>`. */
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const existing = this.counters.get(name);
    if (existing) return existing;
    const counter = new Counter<L>({ name: `hopmap_${name}`, help, labelNames, registers: [this.registry] });
    this.counters.set(name, counter);
    return counter;
  }

  /** A gauge named `hopmap_<name>` (not listed on /health: gauges with labels such as per-consumer progress). */
  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    const existing = this.registry.getSingleMetric(`hopmap_${name}`);
    if (existing) return existing as Gauge<L>;
    return new Gauge<L>({ name: `hopmap_${name}`, help, labelNames, registers: [this.registry] });
  }

  /** Each counter's total over all its labels. */
  async totals(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, counter] of this.counters) {
      const { values } = await counter.get();
      out[name] = values.reduce((sum, v) => sum + v.value, 0);
    }
    return out;
  }
}
