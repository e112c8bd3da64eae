import type { BenchCase } from './bench-case.js';
import { hopsStorage } from './cases/hops-storage.js';
import { ingestDedup } from './cases/ingest-dedup.js';
import { ingestHttp } from './cases/ingest-http.js';
import { mapApi } from './cases/map-api.js';
import { mapRender } from './cases/map-render.js';
import { multipathTracelb } from './cases/multipath-tracelb.js';
import { ratelimitedScamper } from './cases/ratelimited-scamper.js';
import { pingLab } from './cases/ping-lab.js';
import { rawSqlLease } from './cases/raw-sql-lease.js';
import { targetsHttp } from './cases/targets-http.js';
import { targetsHttpBootstrap } from './cases/targets-http-bootstrap.js';
import { tracerouteScamper } from './cases/traceroute-scamper.js';
import { tracerouteStopSet } from './cases/traceroute-stop-set.js';

/**
 * Every bench case, in the order they run and print; a case whose figures others name as baselines comes
 * before them. To add one: a file under cases/ exporting a BenchCase, imported above, one line below.
 */
export const BENCH_CASES: readonly BenchCase[] = [
  // Target feeder (issue 3)
  rawSqlLease,
  targetsHttp,
  targetsHttpBootstrap,
  // Results ingest (issue 5)
  ingestHttp,
  ingestDedup,
  hopsStorage,
  // Probing on the lab (issue 4)
  pingLab,
  tracerouteStopSet,
  tracerouteScamper,
  multipathTracelb,
  ratelimitedScamper,
  // Map (issue 8)
  mapApi,
  mapRender,
];
