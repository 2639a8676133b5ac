import type { Hono } from "hono";
import { TwelveError } from "../../errors/index.js";
import type { ListFilter } from "../../store/types.js";
import { toMarkdown } from "../../thread/markdown.js";
import { humanRequest } from "../../thread/request.js";
import { threadState } from "../../thread/status.js";
import type { Thread } from "../../thread/thread.js";
import type { AuthEnv, Principal } from "../auth.js";
import { checkAgent } from "../auth.js";
import { idempotencyKeyOf, readJson, readQuery } from "../body.js";
import type { ServerContext } from "../context.js";
import { acceptedResponse, baseUrl } from "../respond.js";
import { cancelBody, forkBody, messageBody, threadListQuery, waitQuery } from "../schemas.js";
import { summaryView, threadView } from "../views.js";
import { withCurrentRequest } from "./requests.js";

/** Loads a thread the key may see: 404 `thread_not_found`, 403 `forbidden`. */
export async function visibleThread(ctx: ServerContext, principal: Principal, id: string): Promise<Thread> {
  const thread = await ctx.store.load(id);
  checkAgent(principal, thread.agent);
  return thread;
}

export function registerThreadRoutes(app: Hono<AuthEnv>, ctx: ServerContext): void {
  app.get("/v1/threads", async (c) => {
    const principal = c.get("principal");
    const q = readQuery(c, threadListQuery);
    if (q.agent) checkAgent(principal, q.agent);
    const only = principal.agents && !q.agent && principal.agents.size === 1 ? [...principal.agents][0] : undefined;
    const filter: ListFilter = {
      ...((q.agent ?? only) && { agent: q.agent ?? only }),
      ...(q.status && { status: q.status as ListFilter["status"] }),
      ...(q.kind && { pendingKind: q.kind }),
      ...(q.updatedSince && { updatedAfter: q.updatedSince }),
      ...(q.limit && { limit: q.limit }),
      ...(q.cursor && { cursor: q.cursor }),
    };
    const page = await ctx.store.list(filter);
    const allowed = principal.agents;
    const threads = page.threads.filter((s) => !allowed || allowed.has(s.agent)).map(summaryView);
    return c.json(page.nextCursor ? { threads, nextCursor: page.nextCursor } : { threads });
  });

  app.get("/v1/threads/:id", async (c) => {
    const thread = await visibleThread(ctx, c.get("principal"), c.req.param("id"));
    return c.json(threadView(thread, { busy: ctx.worker.busy(thread.id) }));
  });

  app.get("/v1/threads/:id/markdown", async (c) => {
    const thread = await visibleThread(ctx, c.get("principal"), c.req.param("id"));
    return c.body(toMarkdown(thread), 200, { "Content-Type": "text/markdown; charset=utf-8" });
  });

  /**
   * A new user message. Allowed when nothing is pending, or when the body
   * names the pending approval it rejects (recorded as that rejection, the
   * message as its feedback). A thread running right now: 409 `busy`; a
   * pending request the message does not name: 409 `request_pending`.
   */
  app.post("/v1/threads/:id/messages", async (c) => {
    const principal = c.get("principal");
    const { wait } = readQuery(c, waitQuery);
    const thread = await visibleThread(ctx, principal, c.req.param("id"));
    const body = await readJson(c, messageBody, ctx.config.server.bodyLimit);
    const key = idempotencyKeyOf(c);
    const by = { id: principal.name, via: "api" as const };
    const idempotencyKey = key ? `api:${principal.name}:${key}` : undefined;
    const repeated =
      idempotencyKey !== undefined && thread.events.some((e) => e.meta?.idempotencyKey === idempotencyKey);
    const state = threadState(thread);
    if (!repeated && (state.status === "running" || ctx.worker.busy(thread.id))) {
      throw new TwelveError("busy", `thread ${thread.id} is running; send the message once it pauses or ends`, {
        threadId: thread.id,
      });
    }
    const pending = humanRequest(thread);
    if (body.rejects !== undefined) {
      try {
        const accepted = await ctx.worker.answer({
          decision: "reject",
          feedback: body.message,
          requestId: body.rejects,
          by,
          ...(idempotencyKey && { idempotencyKey }),
        });
        return await acceptedResponse(c, ctx, accepted, wait);
      } catch (error) {
        return withCurrentRequest(ctx, body.rejects, error);
      }
    }
    if (pending && !repeated) {
      throw new TwelveError(
        "request_pending",
        `thread ${thread.id} waits on request ${pending.id} (${pending.kind}); answer it, or name it in "rejects" to reject it with this message`,
        { threadId: thread.id, request: pending },
      );
    }
    const accepted = await ctx.worker.send(thread.id, {
      type: "user_message",
      data: body.message,
      meta: { by, ...(idempotencyKey && { idempotencyKey }) },
    });
    return acceptedResponse(c, ctx, accepted, wait);
  });

  /** A copy of the thread up to an event (default the last); a fork that is `running` starts at once. */
  app.post("/v1/threads/:id/fork", async (c) => {
    const principal = c.get("principal");
    const thread = await visibleThread(ctx, principal, c.req.param("id"));
    const body = await readJson(c, forkBody, ctx.config.server.bodyLimit);
    const at = body.at ?? thread.events[thread.events.length - 1]?.id;
    if (at === undefined) throw new TwelveError("invalid_thread", `thread ${thread.id} has no events to fork`);
    const forked = await ctx.store.fork(thread.id, at);
    if (threadState(forked).status === "running") {
      ctx.worker.continue(forked.id).catch((error: unknown) => {
        ctx.logger.warn("the fork did not start", { threadId: forked.id, error: String(error) });
      });
    }
    c.header("Location", `${baseUrl(c, ctx)}/v1/threads/${encodeURIComponent(forked.id)}`);
    return c.json(threadView(forked, { busy: ctx.worker.busy(forked.id) }), 201);
  });

  /**
   * Cancel (runtime.cancel): a `cancelled` terminal event at a step
   * boundary, never over a running handler (its result is recorded first),
   * never hiding an `uncertain` request. While a runner holds the thread the
   * cancel is recorded and honoured at its next boundary: 202.
   */
  app.post("/v1/threads/:id/cancel", async (c) => {
    const principal = c.get("principal");
    const thread = await visibleThread(ctx, principal, c.req.param("id"));
    const body = await readJson(c, cancelBody, ctx.config.server.bodyLimit);
    const key = idempotencyKeyOf(c);
    const done = await ctx.runtime.cancel(thread.id, {
      by: { id: principal.name, via: "api" },
      ...(body.reason !== undefined && { reason: body.reason }),
      ...(key && { idempotencyKey: `api:${principal.name}:${key}` }),
    });
    const view = threadView(done.thread, { busy: ctx.worker.busy(thread.id), duplicate: done.duplicate });
    view.cancelRequested = done.cancelRequested;
    return c.json(view, done.cancelRequested ? 202 : 200);
  });
}
