// What the manager app mounts for external workers.
export { createGateway, type Gateway, type GatewayDeps } from './gateway-routes.js';
export { gatewayPlugin } from './gateway-plugin.js';
