// Every table of hopmap, for drizzle-kit and for typed queries.
export * from './service-instances.js';
export * from './targets.js';
export * from './results.js';
export * from './routes.js';
export * from './manager.js';
export * from './enrichment.js';
export * from './aliases.js';
export * from './as-graph.js';
