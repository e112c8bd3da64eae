import type { ManagerPluginFactory } from '../manager-plugin.js';
import { apiKeysApiRouter } from './api-keys-api-routes.js';
import { apiKeysPageRouter } from './api-keys-page-routes.js';

/**
 * API keys in the manager: /api-keys and /api/keys, for signed-in operators only. No `apiAuth`: a key opens
 * the gateway (its own middleware) and nothing under /api.
 */
export const apiKeysPlugin: ManagerPluginFactory = ({ pool, requireUserPage, requireUserApi }) => ({
  routes(app) {
    app.use('/api-keys', requireUserPage);
    app.use('/api/keys', requireUserApi);
    app.use(apiKeysPageRouter({ pool }));
    app.use(apiKeysApiRouter({ pool }));
  },
});
