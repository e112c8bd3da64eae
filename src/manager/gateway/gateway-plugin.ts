import type { ManagerPluginFactory } from '../manager-plugin.js';
import { createGateway } from './gateway-routes.js';

/** The gateway in the manager: public routes (an API key, not a session, is the auth), ahead of sessions and CSRF. */
export const gatewayPlugin: ManagerPluginFactory = ({ pool, log, metrics, lifecycle }) => {
  const gateway = createGateway({ pool, log, metrics });
  // Registered before the HTTP server's hook, so it runs after in-flight requests have drained.
  lifecycle.onShutdown('gateway upstream connections', () => gateway.close());
  return { publicRoutes: (app) => void app.use(gateway.router) };
};
