import type { Context } from "hono";
import type { Accepted } from "../runtime/worker.js";
import type { ServerContext } from "./context.js";
import { threadView } from "./views.js";

/** The URL clients reach this server at: publicUrl, else X-Forwarded-* when trusted, else the request's own origin. */
export function baseUrl(c: Context, ctx: ServerContext): string {
  if (ctx.config.publicUrl) return ctx.config.publicUrl;
  const url = new URL(c.req.url);
  if (!ctx.config.server.trustProxy) return url.origin;
  const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  const host = c.req.header("x-forwarded-host")?.split(",")[0]?.trim();
  // The forwarded host replaces host and port together (it names what the client connected to).
  const scheme = proto === "http" || proto === "https" ? proto : url.protocol.slice(0, -1);
  return `${scheme}://${host && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? host : url.host}`;
}

/**
 * Answers a call the worker accepted: at once with 202 and the thread as
 * it was when accepted; with `?wait=<s>`, once the run pauses or ends
 * (200) or when the wait is over (202, still running).
 */
export async function acceptedResponse(
  c: Context,
  ctx: ServerContext,
  accepted: Accepted,
  waitSeconds: number | undefined,
  options: { created?: boolean } = {},
): Promise<Response> {
  const id = accepted.thread.id;
  c.header("Location", `${baseUrl(c, ctx)}/v1/threads/${encodeURIComponent(id)}`);
  let thread = accepted.thread;
  const wait = Math.min(waitSeconds ?? 0, ctx.config.server.maxWaitSeconds);
  if (wait > 0) {
    let timer: NodeJS.Timeout | undefined;
    let onAbort = () => {};
    await Promise.race([
      accepted.done,
      new Promise<void>((r) => {
        timer = setTimeout(r, wait * 1000);
        // A shutdown ends the wait at once (the listener goes when the wait ends: one per request would pile up).
        onAbort = () => r();
        ctx.signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
    clearTimeout(timer);
    ctx.signal.removeEventListener("abort", onAbort);
    // Another runner's own call may still be going (a repeat of a launch): give it the rest of the wait.
    thread = (await ctx.store.get(id)) ?? thread;
  }
  const busy = ctx.worker.busy(id);
  const view = threadView(thread, { busy, duplicate: accepted.duplicate });
  const settled = wait > 0 && !busy && view.status !== "running";
  return c.json(view, settled ? (options.created ? 201 : 200) : 202);
}
