import { Router } from 'express';
import type { WebPluginFactory } from '../../web/web-plugin.js';
import { pageContext } from '../../web/page-context.js';
import { graphViewRoutes } from '../api/graph-view-routes.js';
import { graphPageAssetRoutes, graphPageAssets } from './graph-page-assets.js';
import { renderGraphPage } from './graph-page-render.js';

/**
 * The interactive graph of the map for a signed-in operator: GET /map/graph (the page), GET /api/map/graph-view
 * (its data) and the page's bundled script and stylesheet under /map/assets/.
 */
export const graphPagePlugin: WebPluginFactory = ({ pool, requireUserPage, requireUserApi }) => ({
  publicRoutes(app) {
    graphPageAssetRoutes(app);
  },
  routes(app) {
    const api = Router();
    graphViewRoutes(api, { pool });
    app.use('/api/map/graph-view', requireUserApi);
    app.use(api);
    app.get('/map/graph', requireUserPage, async (_req, res) => {
      res.type('html').send(renderGraphPage(pageContext(res, 'Graph'), await graphPageAssets()));
    });
  },
});
