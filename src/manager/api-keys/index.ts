// What the manager app mounts from API keys.
export { apiKeysApiRouter } from './api-keys-api-routes.js';
export { apiKeysPageRouter } from './api-keys-page-routes.js';
export { requireApiKey, type ApiKeyIdentity } from './require-api-key.js';
export { createApiKey, listApiKeys, revokeApiKey, WORKER_SCOPE } from './api-key-store.js';
export { apiKeysPlugin } from './api-keys-plugin.js';
