export { HttpError, readJsonBody, sendJson, sendText } from './http.js';
export { registerPolicyRoutes } from './policy-routes.js';
export {
  type AdminRoute,
  AdminServer,
  type AdminServerOptions,
  type HttpMethod,
  type MetricsSource,
  type RouteContext,
  type RouteHandler,
} from './server.js';
export { ADMIN_TOKEN_FILE, adminTokenPath, isAuthorized, loadOrCreateAdminToken, readAdminToken } from './token.js';
