import type { Context, Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import { TwelveError } from "../errors/index.js";
import type { ThreadSummary } from "../store/types.js";
import { type HumanRequest, requestFromPending } from "../thread/request.js";
import { PAUSED_STATUSES, REQUEST_KINDS, type RequestKind, threadState } from "../thread/status.js";
import { type AuthEnv, checkAgent, type Principal } from "./auth.js";
import type { ServerContext } from "./context.js";

/**
 * Server-sent event streams, read from the store (so appends made by other
 * processes arrive too): one thread's events, resumable by event index, and
 * the feed of pending requests the inbox uses. See docs/server.md ("Streams").
 */
export interface StreamOptions {
  /** How often the store is polled for changes (default 250 ms). */
  pollMs?: number;
  /** A comment line is sent this often so proxies keep the connection open (default 15 s). */
  heartbeatMs?: number;
  /**
   * The requests feed re-reads threads updated this long before the newest
   * change it has seen (default 5 s): a commit can land with an `updatedAt`
   * older than one already read (PostgreSQL takes the time before the commit;
   * processes' clocks differ). Re-read rows are de-duplicated.
   */
  overlapMs?: number;
}

const KINDS: readonly RequestKind[] = REQUEST_KINDS;

const principalOf = (c: Context<AuthEnv>): Principal | undefined => c.get("principal") as Principal | undefined;

/** Registers `GET /v1/threads/:id/stream` and `GET /v1/requests/stream` (before `/v1/requests/:id`). */
export function registerStreamRoutes(app: Hono<AuthEnv>, ctx: ServerContext, options: StreamOptions = {}): void {
  const pollMs = options.pollMs ?? 250;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const overlapMs = options.overlapMs ?? 5000;

  /** Runs `tick` every pollMs until the client leaves or the server drains; pings in between. */
  const loop = async (stream: SSEStreamingApi, tick: () => Promise<void>) => {
    let closed = false;
    stream.onAbort(() => {
      closed = true;
    });
    const stop = () => {
      closed = true;
    };
    ctx.signal.addEventListener("abort", stop, { once: true });
    let pinged = Date.now();
    try {
      while (!closed && !stream.closed && !ctx.signal.aborted) {
        await tick();
        if (Date.now() - pinged >= heartbeatMs) {
          await stream.write(": ping\n\n");
          pinged = Date.now();
        }
        await stream.sleep(pollMs);
      }
    } finally {
      ctx.signal.removeEventListener("abort", stop);
    }
  };

  app.get("/v1/threads/:id/stream", async (c) => {
    const threadId = c.req.param("id");
    // An unknown thread is a 404 (thread_not_found) before the stream starts.
    const summary = await ctx.store.summary(threadId);
    const principal = principalOf(c);
    if (principal) checkAgent(principal, summary.agent);
    const from = lastEventIndex(c.req.header("last-event-id") ?? c.req.query("lastEventId"), summary.version);
    return streamSSE(c, async (stream) => {
      let sent = from;
      // The state last sent: status and pending request (a re-planned approval keeps the status).
      let shown: string | undefined;
      await loop(stream, async () => {
        const now = await ctx.store.summary(threadId);
        if (now.version <= sent && shown !== undefined) return;
        const thread = await ctx.store.load(threadId);
        for (let i = sent; i < thread.events.length; i++) {
          await stream.writeSSE({
            id: String(i + 1),
            event: "event",
            data: JSON.stringify({ index: i + 1, event: thread.events[i] }),
          });
        }
        sent = thread.events.length;
        const state = threadState(thread);
        const request = state.pending ? requestFromPending(thread.id, state.pending) : undefined;
        const key = `${state.status}\n${request?.id ?? ""}`;
        if (key !== shown) {
          shown = key;
          await stream.writeSSE({
            event: "state",
            data: JSON.stringify({
              threadId,
              version: thread.version,
              status: state.status,
              ...(state.reason !== undefined && { reason: state.reason }),
              ...(request && { request }),
            }),
          });
        }
      });
    });
  });

  app.get("/v1/requests/stream", async (c) => {
    const principal = principalOf(c);
    const agent = c.req.query("agent");
    const kind = c.req.query("kind");
    if (kind !== undefined && !KINDS.includes(kind as RequestKind)) {
      throw new TwelveError("invalid_input", `kind must be one of ${KINDS.join(", ")}, got "${kind}"`, { kind });
    }
    if (agent !== undefined && principal) checkAgent(principal, agent);
    const wanted = (s: Pick<ThreadSummary, "agent">) =>
      (agent === undefined || s.agent === agent) && (!principal?.agents || principal.agents.has(s.agent));
    return streamSSE(c, async (stream) => {
      // What the client holds: thread → the id of its pending request.
      const known = new Map<string, string>();
      let watermark = Date.now();
      const snapshot: HumanRequest[] = [];
      let cursor: string | undefined;
      do {
        const page = await ctx.store.list({
          status: [...PAUSED_STATUSES],
          limit: 1000,
          ...(agent !== undefined && { agent }),
          ...(kind !== undefined && { pendingKind: kind as RequestKind }),
          ...(cursor !== undefined && { cursor }),
        });
        for (const s of page.threads) {
          if (!s.pending || !wanted(s)) continue;
          const request = requestFromPending(s.id, s.pending, s.updatedAt);
          known.set(s.id, request.id);
          snapshot.push(request);
        }
        cursor = page.nextCursor;
      } while (cursor);
      snapshot.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
      await stream.writeSSE({ event: "snapshot", data: JSON.stringify({ requests: snapshot }) });

      await loop(stream, async () => {
        let newest = watermark;
        let page: string | undefined;
        do {
          const changed = await ctx.store.list({
            updatedAfter: new Date(watermark - overlapMs),
            limit: 1000,
            ...(agent !== undefined && { agent }),
            ...(page !== undefined && { cursor: page }),
          });
          for (const s of changed.threads) {
            newest = Math.max(newest, Date.parse(s.updatedAt));
            if (!wanted(s)) continue;
            const pending = s.pending && (kind === undefined || s.pending.kind === kind) ? s.pending : undefined;
            const request = pending ? requestFromPending(s.id, pending, s.updatedAt) : undefined;
            const had = known.get(s.id);
            if (had === request?.id) continue;
            if (had !== undefined) {
              known.delete(s.id);
              await stream.writeSSE({
                event: "request.resolved",
                data: JSON.stringify({ requestId: had, threadId: s.id, status: s.status }),
              });
            }
            if (request) {
              known.set(s.id, request.id);
              await stream.writeSSE({ event: "request.created", data: JSON.stringify({ request }) });
            }
          }
          page = changed.nextCursor;
        } while (page);
        watermark = newest;
      });
    });
  });
}

/** The index to resume after: `Last-Event-ID` is the index of the last event the client has (0 = none). */
function lastEventIndex(raw: string | undefined, version: number): number {
  if (raw === undefined || raw === "") return 0;
  if (!/^\d{1,9}$/.test(raw)) {
    throw new TwelveError("invalid_input", `Last-Event-ID must be an event index (a whole number), got "${raw}"`, {
      lastEventId: raw,
    });
  }
  const n = Number(raw);
  if (n > version) {
    throw new TwelveError(
      "invalid_input",
      `Last-Event-ID ${n} is past the thread's last event (${version}): it is not from this thread`,
      { lastEventId: n, version },
    );
  }
  return n;
}
