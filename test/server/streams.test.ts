import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore, type SqliteThreadStore } from "../../src/store/sqlite/index.js";
import type { Event, EventMeta } from "../../src/thread/event.js";
import { humanRequest } from "../../src/thread/request.js";
import { createThread } from "../../src/thread/thread.js";
import { KEYS, startTestServer, type TestServer } from "./helpers.js";

interface Message {
  id?: string;
  event: string;
  data: unknown;
}

/** Reads server-sent events from a real HTTP response, frame by frame (comments skipped). */
async function openStream(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  const queue: Message[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const pump = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const m: Message = { event: "message", data: "" };
          const data: string[] = [];
          for (const line of frame.split("\n")) {
            if (line.startsWith(":")) continue;
            const [field, ...rest] = line.split(":");
            const value = rest.join(":").replace(/^ /, "");
            if (field === "id") m.id = value;
            else if (field === "event") m.event = value;
            else if (field === "data") data.push(value);
          }
          if (data.length === 0) continue;
          m.data = JSON.parse(data.join("\n"));
          queue.push(m);
          wake?.();
        }
      }
    } catch {
      // aborted by close()
    } finally {
      ended = true;
      wake?.();
    }
  })();
  /** The next message, waiting up to `ms`. */
  const next = async (ms = 5000): Promise<Message> => {
    const deadline = Date.now() + ms;
    while (queue.length === 0) {
      if (ended) throw new Error("the stream ended");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("no message within the wait");
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, left);
      });
    }
    return queue.shift() as Message;
  };
  /** Messages until `until` matches one (inclusive). */
  const upTo = async (until: (m: Message) => boolean, ms = 5000): Promise<Message[]> => {
    const out: Message[] = [];
    for (;;) {
      const m = await next(ms);
      out.push(m);
      if (until(m)) return out;
    }
  };
  const close = async () => {
    controller.abort();
    await pump;
  };
  return { response, next, upTo, close, pending: () => queue.length };
}

let counter = 0;
const ev = (type: string, data: unknown = {}, meta?: EventMeta): Event => ({
  id: `evt_s${++counter}_${Date.now().toString(36)}`,
  type,
  data,
  at: new Date().toISOString(),
  ...(meta && { meta }),
});
const approvalStep = () =>
  ev("divide", { intent: "divide", a: 3, b: 4 }, { kind: "step", intent: "divide", policy: "approve" });

describe("SSE streams read from the store, with events appended by another store handle", () => {
  let dir: string;
  let server: TestServer;
  /** A second, independent handle on the server's SQLite file: another process's appends, as far as the server can tell. */
  let other: SqliteThreadStore;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "twelve-streams-"));
    const path = join(dir, "twelve.db");
    server = await startTestServer({ store: await openSqliteStore({ path }) });
    other = await openSqliteStore({ path });
  });
  afterAll(async () => {
    await server?.shutdown();
    await server?.store.close();
    await other?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A thread paused on an approval, written by the other handle. */
  const pausedThread = async () => {
    const thread = await other.create(
      createThread("calculator", [ev("user_message", "divide 3 by 4"), approvalStep()]),
    );
    return { thread, request: humanRequest(thread) };
  };

  it("streams a thread's events with their index as id, then its state; resumes after Last-Event-ID", async () => {
    const { thread, request } = await pausedThread();
    const s = await openStream(`${server.url}/v1/threads/${thread.id}/stream`);
    expect(s.response.status).toBe(200);
    expect(s.response.headers.get("content-type")).toContain("text/event-stream");
    const first = await s.upTo((m) => m.event === "state");
    expect(first.map((m) => [m.event, m.id])).toEqual([
      ["event", "1"],
      ["event", "2"],
      ["state", undefined],
    ]);
    expect((first[1] as Message).data).toEqual({ index: 2, event: thread.events[1] });
    expect(first[2]?.data).toMatchObject({ status: "awaiting_approval", request: { id: request?.id } });
    // Another handle appends: an annotation, then a cancel. Both arrive, in order, with the next indexes.
    await other.append(thread.id, [ev("note", "looked at it", { annotation: true })], { expectedVersion: 2 });
    await other.append(thread.id, [ev("cancelled", { reason: "enough" })], { expectedVersion: 3 });
    const more = await s.upTo((m) => m.event === "state");
    expect(more.map((m) => [m.event, m.id])).toEqual([
      ["event", "3"],
      ["event", "4"],
      ["state", undefined],
    ]);
    expect(more[2]?.data).toMatchObject({ status: "cancelled", reason: "enough", version: 4 });
    await s.close();

    // Reconnecting with the last index seen sends only what came after it.
    const resumed = await openStream(`${server.url}/v1/threads/${thread.id}/stream`, { "last-event-id": "3" });
    const after = await resumed.upTo((m) => m.event === "state");
    expect(after.map((m) => [m.event, m.id])).toEqual([
      ["event", "4"],
      ["state", undefined],
    ]);
    await resumed.close();
  });

  it("refuses a bad Last-Event-ID and an unknown thread with a JSON error", async () => {
    const { thread } = await pausedThread();
    for (const bad of ["abc", "-1", "1.5", "99"]) {
      const r = await fetch(`${server.url}/v1/threads/${thread.id}/stream`, { headers: { "last-event-id": bad } });
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    }
    const missing = await fetch(`${server.url}/v1/threads/thr_nope/stream`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("thread_not_found");
    const kind = await fetch(`${server.url}/v1/requests/stream?kind=maybe`);
    expect(kind.status).toBe(400);
  });

  it("the requests feed: a snapshot of what is pending, then created and resolved requests; a reconnect gets a fresh snapshot", async () => {
    const x = await pausedThread();
    const s = await openStream(`${server.url}/v1/requests/stream`);
    const snapshot = await s.next();
    expect(snapshot.event).toBe("snapshot");
    const ids = (snapshot.data as { requests: { id: string }[] }).requests.map((r) => r.id);
    expect(ids).toContain(x.request?.id);

    const y = await pausedThread();
    const created = await s.upTo(
      (m) =>
        m.event === "request.created" && (m.data as never as { request: { id: string } }).request.id === y.request?.id,
    );
    // Nothing else changed: no other message came first.
    expect(created).toHaveLength(1);
    await other.append(x.thread.id, [ev("cancelled", { reason: "stop" })], { expectedVersion: 2 });
    const resolved = await s.next();
    expect(resolved).toMatchObject({
      event: "request.resolved",
      data: { requestId: x.request?.id, threadId: x.thread.id, status: "cancelled" },
    });
    // The overlap window re-reads these threads on every poll; nothing is sent twice.
    await new Promise((r) => setTimeout(r, 800));
    expect(s.pending()).toBe(0);
    await s.close();

    const again = await openStream(`${server.url}/v1/requests/stream`);
    const fresh = (await again.next()).data as { requests: { id: string }[] };
    expect(fresh.requests.map((r) => r.id)).toContain(y.request?.id);
    expect(fresh.requests.map((r) => r.id)).not.toContain(x.request?.id);
    await again.close();
  });

  it("API keys: a key limited to other agents gets 403 on a thread stream and an empty feed; no key is 401", async () => {
    const keyed = await startTestServer({
      store: other,
      config: {
        secrets: {
          apiKeys: [
            { name: "admin", key: KEYS.admin },
            { name: "other", key: KEYS.other, agents: ["other"] },
          ],
        },
      },
    });
    try {
      const { thread, request } = await pausedThread();
      const as = (key: string) => ({ authorization: `Bearer ${key}` });
      const forbidden = await fetch(`${keyed.url}/v1/threads/${thread.id}/stream`, { headers: as(KEYS.other) });
      expect(forbidden.status).toBe(403);
      expect((await fetch(`${keyed.url}/v1/requests/stream`)).status).toBe(401);
      expect(
        (await fetch(`${keyed.url}/v1/requests/stream?agent=calculator`, { headers: as(KEYS.other) })).status,
      ).toBe(403);
      const limited = await openStream(`${keyed.url}/v1/requests/stream`, as(KEYS.other));
      expect((await limited.next()).data).toEqual({ requests: [] });
      await limited.close();
      const admin = await openStream(`${keyed.url}/v1/requests/stream`, as(KEYS.admin));
      const all = (await admin.next()).data as { requests: { id: string }[] };
      expect(all.requests.map((r) => r.id)).toContain(request?.id);
      await admin.close();
    } finally {
      await keyed.shutdown();
    }
  });
});
