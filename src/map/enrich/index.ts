export { addressKind, KIND_BY_CIDR, type AddressKind } from './address-kind.js';
export { currentDataVersion } from './data-version.js';
export { enrichAddresses, type EnrichResult } from './enrich-addresses.js';
export { crontab, enrichHopsTask, enrichPendingHops, tasks } from './enrich-hops-task.js';
export { loadRanges, type LoadRangesResult } from './load-ranges.js';
export { lookupAddresses, type AddressInfo } from './lookup-addresses.js';
export { installedRangeSources, type RangeSource } from './range-sources.js';
