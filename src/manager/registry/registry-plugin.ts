import type { ManagerPluginFactory } from '../manager-plugin.js';
import { servicesDashboardSection } from './dashboard-section.js';
import { crontab, tasks } from './poll-task.js';
import { servicesApiRouter } from './services-api-routes.js';
import { workersPageRouter } from './workers-page-routes.js';

/** The worker registry in the manager: /workers, /api/services, the dashboard's status block, health polling. */
export const registryPlugin: ManagerPluginFactory = ({ pool, requireUserPage, requireUserApi }) => ({
  routes(app) {
    app.use('/workers', requireUserPage);
    app.use('/api/services', requireUserApi);
    app.use(workersPageRouter({ pool }));
    app.use(servicesApiRouter({ pool }));
  },
  dashboardSections: [() => servicesDashboardSection(pool)],
  tasks,
  crontab,
});
