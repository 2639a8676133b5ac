import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, json, KEYS, seen, startTestServer, type TestServer } from "./helpers.js";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    config: {
      secrets: {
        apiKeys: [
          { name: "admin", key: KEYS.admin },
          { name: "reader", key: KEYS.reader, readOnly: true },
          { name: "other", key: KEYS.other, agents: ["other"] },
          { name: "second", key: KEYS.second },
        ],
      },
      server: { bodyLimit: 4096 },
    },
  });
});
afterAll(async () => {
  await server?.shutdown();
  // The suite's promise: bad input is always 4xx, never 5xx.
  expect(seen.filter((s) => s.status >= 500)).toEqual([]);
});

const url = (path: string) => `${server.url}${path}`;
const auth = (key = KEYS.admin) => ({ authorization: `Bearer ${key}` });
const get = (path: string, key = KEYS.admin) => call(url(path), { headers: auth(key) });
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url(path), json(body, { ...auth(), ...headers }));
const errorOf = async (response: Response) => ((await response.json()) as { error: ErrorShape }).error;
interface ErrorShape {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
interface ThreadShape {
  id: string;
  status: string;
  request: { id: string; kind: string; argsDigest?: string; args?: Record<string, unknown> } | null;
  output?: unknown;
  duplicate?: boolean;
  busy: boolean;
  events: { id: string; type: string; data: unknown; meta?: Record<string, unknown> }[];
}

/** A divide thread paused on its approval. */
async function pausedDivide(): Promise<ThreadShape> {
  const r = await post("/v1/agents/calculator/threads?wait=5", { message: "divide 3 by 4" });
  expect(r.status).toBe(201);
  const thread = (await r.json()) as ThreadShape;
  expect(thread.status).toBe("awaiting_approval");
  return thread;
}

async function waitSettled(id: string): Promise<ThreadShape> {
  for (let i = 0; i < 200; i++) {
    const t = (await (await get(`/v1/threads/${id}`)).json()) as ThreadShape;
    if (!t.busy && t.status !== "running") return t;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`thread ${id} did not settle`);
}

describe("the workshop scenario over plain fetch", () => {
  it("launch divide 3 by 4, reject with 'use 5 instead of 4', approve the re-planned call, get 0.6", async () => {
    const before = server.runs.divide;
    const thread = await pausedDivide();
    expect(thread.request).toMatchObject({ kind: "approval", args: { a: 3, b: 4 } });
    const rejected = await post(`/v1/requests/${thread.request?.id}?wait=5`, {
      decision: "reject",
      feedback: "use 5 instead of 4",
    });
    expect(rejected.status).toBe(200);
    const replanned = (await rejected.json()) as ThreadShape;
    expect(replanned.request).toMatchObject({ kind: "approval", args: { a: 3, b: 5 } });
    const approved = await post(`/v1/requests/${replanned.request?.id}?wait=5`, {
      decision: "approve",
      digest: replanned.request?.argsDigest,
    });
    expect(approved.status).toBe(200);
    const done = (await approved.json()) as ThreadShape;
    expect(done).toMatchObject({ status: "done", output: { message: "0.6" } });
    // The rejection is in the transcript as the approval event the model saw, with its feedback and who gave it.
    const rejection = done.events.find(
      (e) => e.type === "approval" && (e.data as { approved: boolean }).approved === false,
    );
    expect(rejection?.meta).toMatchObject({ decision: "reject", by: { id: "admin", via: "api" } });
    expect(server.runs.divide - before).toBe(1);
  });

  it("without ?wait a launch answers 202 with Location at once, and the thread runs in the background", async () => {
    const r = await post("/v1/agents/calculator/threads", { message: "add some numbers" });
    expect(r.status).toBe(202);
    const thread = (await r.json()) as ThreadShape;
    expect(r.headers.get("location")).toBe(url(`/v1/threads/${thread.id}`));
    expect(thread.events[0]).toMatchObject({ type: "user_message", data: "add some numbers" });
    const done = await waitSettled(thread.id);
    expect(done).toMatchObject({ status: "done", output: { message: "5" } });
  });

  it("a trigger event launches a thread; answer-like event types are refused (400 invalid_event)", async () => {
    const r = await post("/v1/agents/calculator/threads?wait=5", {
      event: { type: "webhook_push", data: { ref: "main" } },
    });
    expect(r.status).toBe(201);
    const t = (await r.json()) as ThreadShape;
    expect(t.status).toBe("done");
    expect(t.events[0]).toMatchObject({ type: "webhook_push", data: { ref: "main" } });
    for (const type of ["approval", "divide_result", "human_response"]) {
      const bad = await post("/v1/agents/calculator/threads", { event: { type, data: {} } });
      expect(bad.status).toBe(400);
      expect((await errorOf(bad)).code).toBe("invalid_event");
    }
  });
});

describe("bad input is 4xx, with a specific code", () => {
  it("malformed JSON → 400 invalid_json", async () => {
    const r = await call(url("/v1/agents/calculator/threads"), {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: '{"message": "divide',
    });
    expect(r.status).toBe(400);
    expect((await errorOf(r)).code).toBe("invalid_json");
  });

  it("wrong types → 400 invalid_input naming the field", async () => {
    const r = await post("/v1/agents/calculator/threads", { message: 42 });
    expect(r.status).toBe(400);
    const e = await errorOf(r);
    expect(e.code).toBe("invalid_input");
    const thread = await pausedDivide();
    const d = await post(`/v1/requests/${thread.request?.id}`, { decision: "approve", digest: 7 });
    expect(d.status).toBe(400);
    expect((await errorOf(d)).message).toContain("digest");
    const unknownDecision = await post(`/v1/requests/${thread.request?.id}`, { decision: "maybe" });
    expect(unknownDecision.status).toBe(400);
    const query = await get("/v1/threads?status=sleeping");
    expect(query.status).toBe(400);
    expect((await errorOf(query)).message).toContain("status");
  });

  it("a body that is not JSON → 415; an oversize body → 413 (declared, and streamed without a length)", async () => {
    const text = await call(url("/v1/agents/calculator/threads"), {
      method: "POST",
      headers: { ...auth(), "content-type": "text/plain" },
      body: "divide 3 by 4",
    });
    expect(text.status).toBe(415);
    expect((await errorOf(text)).code).toBe("unsupported_media_type");
    const big = await post("/v1/agents/calculator/threads", { message: "x".repeat(10_000) });
    expect(big.status).toBe(413);
    expect((await errorOf(big)).code).toBe("payload_too_large");
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode(`"${"y".repeat(1000)}",`));
        c.close();
      },
    });
    const streamed = await call(url("/v1/agents/calculator/threads"), {
      method: "POST",
      headers: { ...auth(), "content-type": "application/json" },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it("unknown agent, thread, request and route → 404 with their own codes", async () => {
    const agent = await post("/v1/agents/nobody/threads", { message: "hi" });
    expect(agent.status).toBe(404);
    expect((await errorOf(agent)).code).toBe("agent_not_found");
    const thread = await get("/v1/threads/thr_doesnotexist");
    expect(thread.status).toBe(404);
    expect((await errorOf(thread)).code).toBe("thread_not_found");
    const markdown = await get("/v1/threads/thr_doesnotexist/markdown");
    expect(markdown.status).toBe(404);
    for (const id of [
      "rq_garbage",
      `rq_${Buffer.from(JSON.stringify(["thr_nope", "evt_nope"])).toString("base64url")}`,
    ]) {
      const g = await get(`/v1/requests/${id}`);
      expect(g.status).toBe(404);
      expect((await errorOf(g)).code).toBe("request_not_found");
      const p = await post(`/v1/requests/${id}`, { decision: "reject", feedback: "no" });
      expect(p.status).toBe(404);
      expect((await errorOf(p)).code).toBe("request_not_found");
    }
    const route = await get("/v1/nothing-here");
    expect(route.status).toBe(404);
    expect((await errorOf(route)).code).toBe("route_not_found");
    const message = await post("/v1/threads/thr_doesnotexist/messages", { message: "hi" });
    expect(message.status).toBe(404);
  });
});

describe("decisions", () => {
  it("a decision of the wrong kind → 422 invalid_decision with the current request; nothing runs", async () => {
    const thread = await pausedDivide();
    const before = server.runs.divide;
    const r = await post(`/v1/requests/${thread.request?.id}`, { decision: "respond", text: "yes" });
    expect(r.status).toBe(422);
    const e = await errorOf(r);
    expect(e.code).toBe("invalid_decision");
    expect(e.details?.request).toMatchObject({ id: thread.request?.id, kind: "approval" });
    expect(server.runs.divide).toBe(before);
  });

  it("an edit whose arguments fail the intent's schema → 422 invalid_decision; a valid edit runs with the new arguments", async () => {
    const thread = await pausedDivide();
    const digest = thread.request?.argsDigest;
    const bad = await post(`/v1/requests/${thread.request?.id}`, {
      decision: "edit",
      digest,
      args: { a: "three", b: 4 },
    });
    expect(bad.status).toBe(422);
    expect((await errorOf(bad)).details?.request).toMatchObject({ id: thread.request?.id });
    const good = await post(`/v1/requests/${thread.request?.id}?wait=5`, {
      decision: "edit",
      digest,
      args: { a: 3, b: 8 },
    });
    expect(good.status).toBe(200);
    expect(await good.json()).toMatchObject({ status: "done", output: { message: "0.375" } });
  });

  it("a stale digest → 409 request_changed; a missing digest → 422 invalid_decision; each with the current request", async () => {
    const thread = await pausedDivide();
    const stale = await post(`/v1/requests/${thread.request?.id}`, { decision: "approve", digest: "not-the-digest" });
    expect(stale.status).toBe(409);
    const e = await errorOf(stale);
    expect(e.code).toBe("request_changed");
    expect(e.details?.request).toMatchObject({ argsDigest: thread.request?.argsDigest });
    const none = await post(`/v1/requests/${thread.request?.id}`, { decision: "approve" });
    expect(none.status).toBe(422);
    expect((await errorOf(none)).code).toBe("invalid_decision");
  });

  it("the same decision twice: same idempotency key → the same result, duplicate; another key → 409 already_answered", async () => {
    const thread = await pausedDivide();
    const before = server.runs.divide;
    const body = { decision: "approve", digest: thread.request?.argsDigest };
    const first = await post(`/v1/requests/${thread.request?.id}?wait=5`, body, { "idempotency-key": "click-1" });
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: "done", duplicate: false });
    const again = await post(`/v1/requests/${thread.request?.id}?wait=5`, body, { "idempotency-key": "click-1" });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: "done", duplicate: true });
    const other = await post(`/v1/requests/${thread.request?.id}`, body, { "idempotency-key": "click-2" });
    expect(other.status).toBe(409);
    const e = await errorOf(other);
    expect(e.code).toBe("already_answered");
    expect(e.details).toMatchObject({ request: null });
    const noKey = await post(`/v1/requests/${thread.request?.id}`, body);
    expect(noKey.status).toBe(409);
    expect(server.runs.divide - before).toBe(1);
    // Answered: the request is no longer there to read either.
    const read = await get(`/v1/requests/${thread.request?.id}`);
    expect(read.status).toBe(409);
  });

  it("50 concurrent decisions on one request → exactly one execution; the others 409 already_answered", async () => {
    const thread = await pausedDivide();
    const before = server.runs.divide;
    const body = { decision: "approve", digest: thread.request?.argsDigest };
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => post(`/v1/requests/${thread.request?.id}`, body)),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 202 || s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    for (const r of responses.filter((r) => r.status === 409)) expect((await errorOf(r)).code).toBe("already_answered");
    await waitSettled(thread.id);
    expect(server.runs.divide - before).toBe(1);
  });
});

describe("launch idempotency", () => {
  it("a retried launch with the same Idempotency-Key returns the same thread; another body → 422; another API key → a new thread", async () => {
    const first = await post(
      "/v1/agents/calculator/threads?wait=5",
      { message: "add please" },
      { "idempotency-key": "L1" },
    );
    const a = (await first.json()) as ThreadShape;
    expect(a.duplicate).toBe(false);
    const again = await post("/v1/agents/calculator/threads", { message: "add please" }, { "idempotency-key": "L1" });
    const b = (await again.json()) as ThreadShape;
    expect(b).toMatchObject({ id: a.id, duplicate: true });
    const changed = await post(
      "/v1/agents/calculator/threads",
      { message: "add something else" },
      { "idempotency-key": "L1" },
    );
    expect(changed.status).toBe(422);
    expect((await errorOf(changed)).code).toBe("idempotency_conflict");
    // The key's scope is the API key: another client's "L1" is its own launch.
    const second = await call(
      url("/v1/agents/calculator/threads"),
      json({ message: "add please" }, { ...auth(KEYS.second), "idempotency-key": "L1" }),
    );
    expect(second.status).toBe(202);
    expect(((await second.json()) as ThreadShape).id).not.toBe(a.id);
    const bad = await post("/v1/agents/calculator/threads", { message: "x" }, { "idempotency-key": "has space" });
    expect(bad.status).toBe(400);
  });
});

describe("messages", () => {
  it("while a request is pending → 409 request_pending; naming the request rejects it with the message", async () => {
    const thread = await pausedDivide();
    const r = await post(`/v1/threads/${thread.id}/messages`, { message: "use 5 instead of 4" });
    expect(r.status).toBe(409);
    const e = await errorOf(r);
    expect(e.code).toBe("request_pending");
    expect(e.details?.request).toMatchObject({ id: thread.request?.id });
    const named = await post(`/v1/threads/${thread.id}/messages?wait=5`, {
      message: "use 5 instead of 4",
      rejects: thread.request?.id,
    });
    expect(named.status).toBe(200);
    expect(await named.json()).toMatchObject({ request: { args: { a: 3, b: 5 } } });
    const stale = await post(`/v1/threads/${thread.id}/messages`, { message: "again", rejects: thread.request?.id });
    expect(stale.status).toBe(409);
    expect((await errorOf(stale)).code).toBe("already_answered");
  });

  it("a finished thread takes a new message and runs on; a running thread answers 409 busy", async () => {
    const r = await post("/v1/agents/calculator/threads?wait=5", { message: "add it up" });
    const thread = (await r.json()) as ThreadShape;
    expect(thread.status).toBe("done");
    const next = await post(`/v1/threads/${thread.id}/messages?wait=5`, { message: "and again" });
    expect(next.status).toBe(200);
    const after = (await next.json()) as ThreadShape;
    expect(after.status).toBe("done");
    expect(after.events.filter((e) => e.type === "user_message")).toHaveLength(2);

    server.gate.close();
    const slow = (await (await post("/v1/agents/calculator/threads", { message: "slow one" })).json()) as ThreadShape;
    for (let i = 0; i < 100 && server.runs.slow === 0; i++) await new Promise((res) => setTimeout(res, 10));
    const busy = await post(`/v1/threads/${slow.id}/messages`, { message: "hurry" });
    expect(busy.status).toBe(409);
    expect((await errorOf(busy)).code).toBe("busy");
    expect(busy.headers.get("retry-after")).toBe("1");
    server.gate.open();
    expect(await waitSettled(slow.id)).toMatchObject({ status: "done", output: { message: "slow done" } });
  });
});

describe("?wait and repeated messages", () => {
  it("?wait ends at its limit with 202 and the thread still running; a repeated message key appends once", async () => {
    server.gate.close();
    let t: ThreadShape;
    try {
      const started = Date.now();
      const r = await post("/v1/agents/calculator/threads?wait=0.3", { message: "slow and waited on" });
      expect(r.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      t = (await r.json()) as ThreadShape;
      // The handler is running here (busy). Derived from the events alone, a started handler with no result
      // reads as an uncertain request, in every process: busy is what says this server is still on it.
      expect(t.busy).toBe(true);
      expect(t.status).not.toBe("done");
    } finally {
      server.gate.open();
    }
    expect(await waitSettled(t.id)).toMatchObject({ status: "done" });
    const m1 = await post(`/v1/threads/${t.id}/messages?wait=5`, { message: "one more" }, { "idempotency-key": "m-1" });
    expect(m1.status).toBe(200);
    const m2 = await post(`/v1/threads/${t.id}/messages?wait=5`, { message: "one more" }, { "idempotency-key": "m-1" });
    expect(m2.status).toBe(200);
    const after = (await m2.json()) as ThreadShape;
    expect(after.duplicate).toBe(true);
    expect(after.events.filter((e) => e.type === "user_message")).toHaveLength(2);
  });
});

describe("reading threads and requests", () => {
  it("GET /v1/threads filters by agent, status, request kind and updated-since, with cursor pagination", async () => {
    const since = new Date().toISOString();
    const paused = await pausedDivide();
    for (let i = 0; i < 3; i++) await post("/v1/agents/calculator/threads?wait=5", { message: `add ${i}` });
    const approval = await get("/v1/threads?kind=approval");
    const approvals = (await approval.json()) as { threads: { id: string; request: { kind: string } }[] };
    expect(approvals.threads.map((t) => t.id)).toContain(paused.id);
    expect(approvals.threads.every((t) => t.request.kind === "approval")).toBe(true);

    const done = (await (await get(`/v1/threads?status=done&updatedSince=${encodeURIComponent(since)}`)).json()) as {
      threads: { status: string }[];
    };
    expect(done.threads).toHaveLength(3);
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await (
        await get(
          `/v1/threads?agent=calculator&limit=2&updatedSince=${encodeURIComponent(since)}${cursor ? `&cursor=${cursor}` : ""}`,
        )
      ).json()) as { threads: { id: string }[]; nextCursor?: string };
      expect(page.threads.length).toBeLessThanOrEqual(2);
      ids.push(...page.threads.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(ids).size).toBe(4);
    const badCursor = await get("/v1/threads?cursor=garbage!");
    expect(badCursor.status).toBe(400);
    expect((await errorOf(badCursor)).code).toBe("invalid_cursor");
    const none = (await (await get("/v1/threads?agent=nobody")).json()) as { threads: unknown[] };
    expect(none.threads).toEqual([]);
  });

  it("GET /v1/requests lists pending requests; GET /v1/requests/:id reads one; markdown renders a thread", async () => {
    const paused = await pausedDivide();
    const list = (await (await get("/v1/requests?kind=approval")).json()) as { requests: { id: string }[] };
    expect(list.requests.map((r) => r.id)).toContain(paused.request?.id);
    const one = await get(`/v1/requests/${paused.request?.id}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({
      id: paused.request?.id,
      kind: "approval",
      decisions: ["approve", "edit", "reject"],
    });
    const md = await get(`/v1/threads/${paused.id}/markdown`);
    expect(md.status).toBe(200);
    expect(md.headers.get("content-type")).toContain("text/markdown");
    expect(await md.text()).toContain("divide 3 by 4");
    const agents = (await (await get("/v1/agents")).json()) as { agents: { name: string }[] };
    expect(agents.agents.map((a) => a.name)).toEqual(["calculator"]);
  });

  it("fork copies a thread up to an event into a new thread that points back", async () => {
    const paused = await pausedDivide();
    const r = await post(`/v1/threads/${paused.id}/fork`, {});
    expect(r.status).toBe(201);
    const forked = (await r.json()) as ThreadShape & { parent: { threadId: string } };
    expect(forked.parent.threadId).toBe(paused.id);
    expect(forked.status).toBe("awaiting_approval");
    expect(forked.request?.id).not.toBe(paused.request?.id);
    expect(r.headers.get("location")).toBe(url(`/v1/threads/${forked.id}`));
    const bad = await post(`/v1/threads/${paused.id}/fork`, { at: "evt_nope" });
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).code).toBe("invalid_thread");
    // Forked at the first message, the copy is `running` and the worker runs it at once.
    const atStart = await post(`/v1/threads/${paused.id}/fork`, { at: paused.events[0]?.id });
    const early = (await atStart.json()) as ThreadShape;
    expect(await waitSettled(early.id)).toMatchObject({ status: "awaiting_approval" });
  });
});

describe("cancel", () => {
  it("a paused thread is cancelled at once (200); its request goes away; a finished thread stays as it is", async () => {
    const paused = await pausedDivide();
    const r = await post(`/v1/threads/${paused.id}/cancel`, { reason: "not needed" });
    expect(r.status).toBe(200);
    const t = (await r.json()) as ThreadShape & { cancelRequested: boolean };
    expect(t).toMatchObject({ status: "cancelled", request: null, cancelRequested: false });
    expect(t.events.at(-1)).toMatchObject({
      type: "cancelled",
      data: { reason: "not needed" },
      meta: { by: { id: "admin", via: "api" } },
    });
    const answer = await post(`/v1/requests/${paused.request?.id}`, {
      decision: "approve",
      digest: paused.request?.argsDigest,
    });
    expect(answer.status).toBe(409);
    const again = await post(`/v1/threads/${paused.id}/cancel`, {});
    expect(again.status).toBe(200);
    expect(((await again.json()) as ThreadShape).status).toBe("cancelled");
    expect((await post("/v1/threads/thr_nope/cancel", {})).status).toBe(404);
  });

  it("a running handler is never interrupted: 202 cancelRequested, its result is recorded, then the thread is cancelled", async () => {
    server.gate.close();
    const before = server.runs.slow;
    const slow = (await (
      await post("/v1/agents/calculator/threads", { message: "slow, then cancel" })
    ).json()) as ThreadShape;
    for (let i = 0; i < 100 && server.runs.slow === before; i++) await new Promise((res) => setTimeout(res, 10));
    const r = await post(`/v1/threads/${slow.id}/cancel`, {});
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ cancelRequested: true });
    server.gate.open();
    const settled = await waitSettled(slow.id);
    expect(settled.status).toBe("cancelled");
    const types = settled.events.map((e) => e.type);
    expect(types.indexOf("slow_result")).toBeGreaterThan(-1);
    expect(types.indexOf("slow_result")).toBeLessThan(types.lastIndexOf("cancelled"));
  });
});

describe("auth", () => {
  it("a missing, malformed or unknown key → 401 unauthorized", async () => {
    const none = await call(url("/v1/threads"));
    expect(none.status).toBe(401);
    expect((await errorOf(none)).code).toBe("unauthorized");
    const basic = await call(url("/v1/threads"), { headers: { authorization: "Basic abc" } });
    expect(basic.status).toBe(401);
    const wrong = await get("/v1/threads", "not-a-key-at-all-0000000");
    expect(wrong.status).toBe(401);
  });

  it("a read-only key reads, and is refused writes with 403 forbidden", async () => {
    expect((await get("/v1/threads", KEYS.reader)).status).toBe(200);
    const r = await call(url("/v1/agents/calculator/threads"), json({ message: "hi" }, auth(KEYS.reader)));
    expect(r.status).toBe(403);
    expect((await errorOf(r)).code).toBe("forbidden");
  });

  it("a key limited to other agents cannot launch, read or answer this agent's threads", async () => {
    const paused = await pausedDivide();
    const launch = await call(url("/v1/agents/calculator/threads"), json({ message: "hi" }, auth(KEYS.other)));
    expect(launch.status).toBe(403);
    expect((await get(`/v1/threads/${paused.id}`, KEYS.other)).status).toBe(403);
    const answer = await call(
      url(`/v1/requests/${paused.request?.id}`),
      json({ decision: "reject", feedback: "x" }, auth(KEYS.other)),
    );
    expect(answer.status).toBe(403);
    const list = (await (await get("/v1/threads", KEYS.other)).json()) as { threads: unknown[] };
    expect(list.threads).toEqual([]);
    const requests = (await (await get("/v1/requests", KEYS.other)).json()) as { requests: unknown[] };
    expect(requests.requests).toEqual([]);
  });

  it("the key's name is the answer's identity: by = {id: <key name>, via: 'api'}", async () => {
    const paused = await pausedDivide();
    const r = await post(`/v1/requests/${paused.request?.id}?wait=5`, { decision: "reject", feedback: "no thanks" });
    const t = (await r.json()) as ThreadShape;
    const answer = t.events.find((e) => e.type === "approval");
    expect(answer?.meta?.by).toEqual({ id: "admin", via: "api" });
    expect(t.events[0]?.meta?.by).toEqual({ id: "admin", via: "api" });
  });
});

describe("with no API key configured", () => {
  it("/v1 answers on loopback (with a loud warning) and refuses other interfaces with 403 loopback_only", async () => {
    const open = await startTestServer({ config: { server: { host: "0.0.0.0" } } });
    try {
      expect(open.logs.some((l) => l.startsWith("warn NO API KEY IS CONFIGURED"))).toBe(true);
      const local = await call(`http://127.0.0.1:${open.port}/v1/agents`);
      expect(local.status).toBe(200);
      const outside = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === "IPv4" && !i.internal);
      if (!outside) return; // no other interface on this machine: only the loopback half can run
      const remote = await call(`http://${outside.address}:${open.port}/v1/agents`);
      expect(remote.status).toBe(403);
      expect((await errorOf(remote)).code).toBe("loopback_only");
    } finally {
      await open.shutdown();
    }
  });
});

describe("behind a proxy", () => {
  it("Location uses publicUrl; without it, X-Forwarded-Proto/-Host only when trustProxy is set", async () => {
    const headers = { "x-forwarded-proto": "https", "x-forwarded-host": "agents.example.com" };
    const launch = (s: TestServer) => call(`${s.url}/v1/agents/calculator/threads`, json({ message: "add" }, headers));
    const pub = await startTestServer({ config: { publicUrl: "https://public.example.com/base/" } });
    const trusting = await startTestServer({ config: { server: { trustProxy: true } } });
    const plain = await startTestServer();
    try {
      expect((await launch(pub)).headers.get("location")).toMatch(
        /^https:\/\/public\.example\.com\/base\/v1\/threads\/thr_/,
      );
      expect((await launch(trusting)).headers.get("location")).toMatch(
        /^https:\/\/agents\.example\.com\/v1\/threads\/thr_/,
      );
      expect((await launch(plain)).headers.get("location")).toMatch(new RegExp(`^${plain.url}/v1/threads/thr_`));
    } finally {
      await Promise.all([pub.shutdown(), trusting.shutdown(), plain.shutdown()]);
    }
  });
});

describe("health, readiness and the OpenAPI document", () => {
  it("/healthz and /readyz answer 200; /v1/openapi.json is OpenAPI 3.1 with every route", async () => {
    expect((await call(url("/healthz"))).status).toBe(200);
    expect((await call(url("/readyz"))).status).toBe(200);
    const doc = (await (await call(url("/v1/openapi.json"))).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/agents/{agent}/threads", "/v1/threads/{id}", "/v1/requests/{id}"]),
    );
  });

  it("a socket that sends garbage gets a 400, not a crash", async () => {
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(server.port, "127.0.0.1", () => socket.write("NOT HTTP AT ALL\r\n\r\n"));
      let data = "";
      socket.on("data", (d) => {
        data += d.toString();
      });
      socket.on("close", () => resolve(data));
      socket.on("error", () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
  });
});

describe("graceful shutdown", () => {
  it("draining: /readyz answers 503 draining, writes are refused, a running thread finishes, then the server stops", async () => {
    const s = await startTestServer({ config: { server: { shutdownGraceMs: 10_000 } } });
    s.gate.close();
    const slow = (await (
      await call(`${s.url}/v1/agents/calculator/threads`, json({ message: "slow please" }))
    ).json()) as ThreadShape;
    for (let i = 0; i < 100 && s.runs.slow === 0; i++) await new Promise((res) => setTimeout(res, 10));
    const stopping = s.shutdown("test");
    // /readyz while draining is the suite's one documented 5xx.
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: ErrorShape }).error.code).toBe("draining");
    s.gate.open();
    await stopping;
    const thread = await s.store.load(slow.id);
    expect(thread.events.at(-1)).toMatchObject({ type: "done_for_now" });
  });
});
