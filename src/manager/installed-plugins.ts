import { apiKeysPlugin } from './api-keys/index.js';
import { mapPlugin } from '../map/api/map-plugin.js';
import { graphPagePlugin } from '../map/pages/graph-page-plugin.js';
import { pathPagesPlugin } from '../map/pages/path-pages-plugin.js';
import { worldMapPlugin } from '../map/pages/world-map-plugin.js';
import { gatewayPlugin } from './gateway/index.js';
import type { ManagerPluginFactory } from './manager-plugin.js';
import { registryPlugin } from './registry/index.js';

/** The features `hopmap manager` runs with, in mount order. */
export const installedPlugins: ManagerPluginFactory[] = [
  registryPlugin,
  apiKeysPlugin,
  gatewayPlugin,
  mapPlugin,
  pathPagesPlugin,
  graphPagePlugin,
  worldMapPlugin,
];
