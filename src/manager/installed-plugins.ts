import type { ManagerPluginFactory } from './manager-plugin.js';

/** The features `hopmap manager` runs with, in mount order (one line each: the registry, API keys, TLS, ...). */
export const installedPlugins: ManagerPluginFactory[] = [];
