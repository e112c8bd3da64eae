// What the manager app mounts from API keys; the store and the role check live in src/keys.
export { apiKeysApiRouter } from './api-keys-api-routes.js';
export { apiKeysPageRouter } from './api-keys-page-routes.js';
export { apiKeysPlugin } from './api-keys-plugin.js';
