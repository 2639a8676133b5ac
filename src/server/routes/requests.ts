import type { Hono } from "hono";
import { RequestError, TwelveError } from "../../errors/index.js";
import { type Answer, humanRequest, parseRequestId } from "../../thread/request.js";
import type { AuthEnv, Principal } from "../auth.js";
import { checkAgent } from "../auth.js";
import { idempotencyKeyOf, readJson, readQuery } from "../body.js";
import type { ServerContext } from "../context.js";
import { acceptedResponse } from "../respond.js";
import { decisionBody, requestListQuery, waitQuery } from "../schemas.js";

/** Refuses a key limited to other agents, for the thread a request id names (404 when there is no such thread). */
async function checkRequestAgent(ctx: ServerContext, principal: Principal, requestId: string): Promise<void> {
  if (!principal.agents) return;
  const ref = parseRequestId(requestId);
  if (!ref) return; // the runtime says request_not_found
  const thread = await ctx.store.get(ref.threadId);
  if (thread) checkAgent(principal, thread.agent);
}

/**
 * A refused answer (409 already_answered / request_changed, 422
 * invalid_decision) carries the request as it is now in `details.request`
 * (null when the thread waits on nothing), so a client can show it again.
 */
export async function withCurrentRequest(ctx: ServerContext, requestId: string, error: unknown): Promise<never> {
  const ref = parseRequestId(requestId);
  if (
    error instanceof TwelveError &&
    ref &&
    ["already_answered", "request_changed", "invalid_decision"].includes(error.code)
  ) {
    const thread = await ctx.store.get(ref.threadId);
    const current = thread ? (humanRequest(thread) ?? null) : null;
    throw new RequestError(error.code as "already_answered", error.message, { ...error.details, request: current });
  }
  throw error;
}

export function registerRequestRoutes(app: Hono<AuthEnv>, ctx: ServerContext): void {
  /** What waits for a human, across threads (most recently paused first). */
  app.get("/v1/requests", async (c) => {
    const principal = c.get("principal");
    const q = readQuery(c, requestListQuery);
    if (q.agent) checkAgent(principal, q.agent);
    const page = await ctx.runtime.requests({
      ...(q.agent && { agent: q.agent }),
      ...(q.kind && { kind: q.kind }),
      ...(q.limit && { limit: q.limit }),
      ...(q.cursor && { cursor: q.cursor }),
    });
    const allowed = principal.agents;
    if (allowed && !q.agent) {
      const threads = new Map<string, string>();
      for (const r of page.requests) threads.set(r.threadId, (await ctx.store.summary(r.threadId)).agent);
      page.requests = page.requests.filter((r) => allowed.has(threads.get(r.threadId) ?? ""));
    }
    return c.json(page);
  });

  app.get("/v1/requests/:id", async (c) => {
    const id = c.req.param("id");
    await checkRequestAgent(ctx, c.get("principal"), id);
    try {
      return c.json(await ctx.runtime.request(id));
    } catch (error) {
      return withCurrentRequest(ctx, id, error);
    }
  });

  /** The only way to answer: one decision; refused answers run nothing. */
  app.post("/v1/requests/:id", async (c) => {
    const id = c.req.param("id");
    const principal = c.get("principal");
    const { wait } = readQuery(c, waitQuery);
    await checkRequestAgent(ctx, principal, id);
    const body = await readJson(c, decisionBody, ctx.config.server.bodyLimit);
    const key = idempotencyKeyOf(c);
    const answer = {
      ...body,
      requestId: id,
      by: { id: principal.name, via: "api" },
      ...(key && { idempotencyKey: `api:${principal.name}:${key}` }),
    } as Answer;
    try {
      const accepted = await ctx.worker.answer(answer);
      return await acceptedResponse(c, ctx, accepted, wait);
    } catch (error) {
      return withCurrentRequest(ctx, id, error);
    }
  });
}
