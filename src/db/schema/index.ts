// Every table of hopmap: what drizzle-kit makes migrations from, and where row types come from (docs/sql.md).
export * from './service-instances.js';
export * from './targets.js';
export * from './results.js';
export * from './routes.js';
export * from './manager.js';
export * from './enrichment.js';
export * from './aliases.js';
export * from './as-graph.js';
