import { Router } from 'express';
import type { WebPluginFactory } from '../../web/web-plugin.js';
import { graphRoutes } from './graph-routes.js';
import { routeHistoryRoutes } from './route-history-routes.js';

/** The map's read API in the manager, for a signed-in operator: /api/map/graph, /api/map/path, /api/map/changes. */
export const mapPlugin: WebPluginFactory = ({ pool, requireUserApi }) => ({
  routes(app) {
    const router = Router();
    graphRoutes(router, { pool });
    routeHistoryRoutes(router, { pool });
    app.use('/api/map', requireUserApi);
    app.use(router);
  },
});
