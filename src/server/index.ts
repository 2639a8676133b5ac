/**
 * `twelve serve`: the HTTP API over the runtime (launch, answer, list,
 * stream), with its in-process worker. See docs/server.md.
 */
export { type AppOptions, createApp } from "./app.js";
export { consoleLogger, type Logger, type ServerContext } from "./context.js";
export { openApiDocument, ROUTES, type RouteSpec } from "./openapi.js";
export { type RunningServer, type StartServerOptions, startServer } from "./serve.js";
