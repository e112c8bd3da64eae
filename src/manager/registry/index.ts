// What the manager app mounts from the registry.
export { servicesApiRouter, type ServicesApiDeps } from './services-api-routes.js';
export { workersPageRouter, type WorkersPageDeps } from './workers-page-routes.js';
export { servicesDashboardSection } from './dashboard-section.js';
export { tasks, crontab } from './poll-task.js';
export { pollServices, type PollSummary } from './poll-services.js';
export { registerService } from './register-service.js';
export { detectService, DetectionError } from './detect-service.js';
export { registryPlugin } from './registry-plugin.js';
