import type { BenchCase } from './bench-case.js';
import { hopsStorage } from './cases/hops-storage.js';
import { ingestHttp } from './cases/ingest-http.js';
import { mapApi } from './cases/map-api.js';
import { mapRender } from './cases/map-render.js';
import { pingLab } from './cases/ping-lab.js';
import { rawSqlLease } from './cases/raw-sql-lease.js';
import { targetsHttp } from './cases/targets-http.js';
import { targetsHttpBootstrap } from './cases/targets-http-bootstrap.js';
import { tracerouteStopSet } from './cases/traceroute-stop-set.js';

/** Every bench case, in the order they run and print. Baselines first: other cases compare against them. */
export const BENCH_CASES: readonly BenchCase[] = [rawSqlLease, targetsHttp, targetsHttpBootstrap, ingestHttp, hopsStorage, pingLab, tracerouteStopSet, mapApi, mapRender];
