import type { Hono } from "hono";
import { TwelveError } from "../../errors/index.js";
import { SYSTEM_EVENT_TYPES } from "../../thread/event.js";
import type { AuthEnv } from "../auth.js";
import { checkAgent } from "../auth.js";
import { idempotencyKeyOf, readJson, readQuery } from "../body.js";
import type { ServerContext } from "../context.js";
import { acceptedResponse } from "../respond.js";
import { launchBody, waitQuery } from "../schemas.js";
import { agentView } from "../views.js";

export function registerAgentRoutes(app: Hono<AuthEnv>, ctx: ServerContext, agentNames: readonly string[]): void {
  app.get("/v1/agents", (c) => {
    const principal = c.get("principal");
    const agents = agentNames
      .filter((n) => !principal.agents || principal.agents.has(n))
      .map((n) => agentView(ctx.runtime.agent(n)));
    return c.json({ agents });
  });

  app.get("/v1/agents/:agent", (c) => {
    const agent = ctx.runtime.agent(c.req.param("agent"));
    checkAgent(c.get("principal"), agent.name);
    return c.json(agentView(agent));
  });

  /** Launch: 202 + Location at once, or the thread once it pauses or ends with ?wait=<seconds>. */
  app.post("/v1/agents/:agent/threads", async (c) => {
    const principal = c.get("principal");
    const agent = ctx.runtime.agent(c.req.param("agent"));
    checkAgent(principal, agent.name);
    const { wait } = readQuery(c, waitQuery);
    const body = await readJson(c, launchBody, ctx.config.server.bodyLimit);
    const key = idempotencyKeyOf(c);
    if ("event" in body && isAnswerType(body.event.type)) {
      throw new TwelveError(
        "invalid_event",
        `a thread cannot start with "${body.event.type}": that event type answers a request or records a run`,
        { type: body.event.type },
      );
    }
    const first = "message" in body ? body.message : { type: body.event.type, data: body.event.data ?? null };
    const accepted = await ctx.worker.start(agent.name, first, {
      by: { id: principal.name, via: "api" },
      // The key is scoped by the API key that sent it: two clients cannot collide.
      ...(key && { idempotency: { scope: `api:${principal.name}:launch:${agent.name}`, key } }),
    });
    return acceptedResponse(c, ctx, accepted, wait, { created: true });
  });
}

/** Event types a launch may not carry: answers, results and markers the runtime writes itself. */
function isAnswerType(type: string): boolean {
  return SYSTEM_EVENT_TYPES.has(type) || /_(result|started)$/.test(type) || type === "cancelled";
}
