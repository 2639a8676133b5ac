import { Hono } from "hono";
import { TwelveError } from "../errors/index.js";
import { type AuthEnv, apiKeyAuth } from "./auth.js";
import type { ServerContext } from "./context.js";
import { errorResponse } from "./errors.js";
import { openApiDocument } from "./openapi.js";
import { registerAgentRoutes } from "./routes/agents.js";
import { registerRequestRoutes } from "./routes/requests.js";
import { registerThreadRoutes } from "./routes/threads.js";
import { registerStreamRoutes } from "./streams.js";

export type { Logger, ServerContext } from "./context.js";

export interface AppOptions {
  /** The agents the runtime serves, by name (for GET /v1/agents). */
  agents: readonly string[];
  /** The package version shown in the OpenAPI document. */
  version: string;
}

/**
 * The HTTP app: /healthz, /readyz, /v1/openapi.json, and the API under /v1
 * (JSON only, API-key auth, body limits, errors from the one table). Plug-ins
 * register their routes here with the same context (streams, webhooks).
 */
export function createApp(ctx: ServerContext, options: AppOptions): Hono<AuthEnv> {
  const app = new Hono<AuthEnv>();
  app.onError((error, c) => errorResponse(c, error, ctx.logger));
  app.notFound((c) =>
    errorResponse(c, new TwelveError("route_not_found", `no endpoint ${c.req.method} ${c.req.path}`), ctx.logger),
  );

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", (c) =>
    ctx.draining()
      ? errorResponse(c, new TwelveError("draining", "the server is shutting down"), ctx.logger)
      : c.json({ ok: true }),
  );
  app.get("/v1/openapi.json", (c) => c.json(openApiDocument({ version: options.version })));

  app.use("/v1/*", apiKeyAuth(ctx.config.secrets.apiKeys));
  app.use("/v1/*", async (c, next) => {
    // While draining, reads still answer; work is refused so a load balancer retries it elsewhere.
    if (ctx.draining() && c.req.method !== "GET" && c.req.method !== "HEAD") {
      throw new TwelveError("draining", "the server is shutting down; retry on another instance");
    }
    await next();
  });

  // Before the request routes: /v1/requests/stream is not a request id.
  registerStreamRoutes(app, ctx);
  registerAgentRoutes(app, ctx, options.agents);
  registerThreadRoutes(app, ctx);
  registerRequestRoutes(app, ctx);
  return app;
}
