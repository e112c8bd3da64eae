import { apiKeysPlugin } from '../manager/api-keys/index.js';
import { gatewayPlugin } from '../manager/gateway/index.js';
import type { ManagerPluginFactory } from '../manager/manager-plugin.js';
import { registryPlugin } from '../manager/registry/index.js';
import { mapPlugin } from '../map/api/map-plugin.js';
import { graphPagePlugin } from '../map/pages/graph-page-plugin.js';
import { pathPagesPlugin } from '../map/pages/path-pages-plugin.js';
import { worldMapPlugin } from '../map/pages/world-map-plugin.js';

/**
 * The features `hopmap manager` runs with, in mount order (it adds TLS and dy.fi from its configuration). Chosen
 * here, where the process is composed: the manager imports no map module, and the map implements the kit's plugin
 * contract (src/web/web-plugin.ts), not the manager's.
 */
export const installedPlugins: ManagerPluginFactory[] = [
  registryPlugin,
  apiKeysPlugin,
  gatewayPlugin,
  mapPlugin,
  pathPagesPlugin,
  graphPagePlugin,
  worldMapPlugin,
];
