import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { approve } from "../../src/agent/events.js";
import { TwelveError } from "../../src/errors/index.js";
import { type AgentRuntime, createRuntime } from "../../src/runtime/runtime.js";
import {
  backoffMs,
  createWebhookDispatcher,
  outboxEndpoints,
  type WebhookDispatcherOptions,
  type WebhookEndpoint,
} from "../../src/server/webhooks/index.js";
import { openPostgresStore, type PostgresThreadStore } from "../../src/store/postgres/index.js";
import { openSqliteStore, type SqliteThreadStore } from "../../src/store/sqlite/index.js";
import { type Effect, opsAgent, plannerModel } from "../runtime/fixtures.js";
import { freshSchema, PG_URL, reportPgSkip } from "../store/pg-env.js";
import { json, startTestServer } from "./helpers.js";
import { type Delivery, newSecret, startReceiver } from "./webhooks-receiver.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("outbound webhooks: outbox → dispatcher → a real receiver verifying with standardwebhooks", () => {
  let dir: string;
  let store: SqliteThreadStore;
  let closers: (() => Promise<void>)[];
  let effects: Effect[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "twelve-webhooks-"));
    store = await openSqliteStore({ path: join(dir, "twelve.db") });
    closers = [];
    effects = [];
  });
  afterEach(async () => {
    for (const close of closers.reverse()) await close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const receiver = async (secret = newSecret()) => {
    const r = await startReceiver(secret);
    closers.push(r.close);
    return { ...r, secret };
  };
  const runtimeFor = (endpoints: WebhookEndpoint[]): AgentRuntime =>
    createRuntime({
      store,
      agents: opsAgent(effects),
      model: plannerModel(),
      outbox: { endpoints: outboxEndpoints(endpoints) },
    });
  const dispatcher = (endpoints: WebhookEndpoint[], options: Partial<WebhookDispatcherOptions> = {}) => {
    const d = createWebhookDispatcher({ store, endpoints, pollIntervalMs: 60_000, baseDelayMs: 50, ...options });
    closers.push(() => d.stop({ flush: false }));
    return d;
  };
  const payloadOf = (d: Delivery) => {
    if (!d.verified.ok) throw new Error(`delivery ${d.id} did not verify: ${d.verified.error}`);
    return d.verified.payload;
  };

  it("delivers request.created, request.answered, thread.done and thread.cancelled, each verified, each with its own id", async () => {
    const r = await receiver();
    const endpoint = { url: r.url, secrets: [r.secret] };
    const rt = runtimeFor([endpoint]);
    const d = dispatcher([endpoint]);
    const started = await rt.start("ops", "deploy:v1.2.3:production");
    await rt.answer(approve(started.request, { by: { id: "alice", via: "api" } }));
    const other = await rt.start("ops", "lookup:42");
    await rt.cancel(other.thread.id, { by: { id: "bob", via: "api" } });
    const sent = await d.flush();
    expect(sent).toBe(5);
    expect(r.deliveries.every((x) => x.verified.ok && x.status === 204)).toBe(true);
    const seen = r.deliveries.map((x) => [payloadOf(x).type, payloadOf(x).data.threadId]);
    expect(seen).toEqual([
      ["request.created", started.thread.id],
      ["request.answered", started.thread.id],
      ["thread.done", started.thread.id],
      ["request.created", other.thread.id],
      ["thread.cancelled", other.thread.id],
    ]);
    expect(new Set(r.deliveries.map((x) => x.id)).size).toBe(5);
    const created = payloadOf(r.deliveries[0] as Delivery).data;
    expect(created).toMatchObject({ agent: "ops", request: { id: started.request?.id, kind: "approval" } });
    expect(payloadOf(r.deliveries[1] as Delivery).data).toMatchObject({
      requestId: started.request?.id,
      decision: "approve",
      by: { id: "alice", via: "api" },
    });
    expect(effects).toHaveLength(1);
    // Nothing is due any more: a second flush sends nothing.
    expect(await d.flush()).toBe(0);
    expect((await store.listOutbox({ endpoint: r.url })).every((row) => row.state === "delivered")).toBe(true);
  });

  it("a tampered body, id, timestamp or signature does not verify", async () => {
    const r = await receiver();
    const endpoint = { url: r.url, secrets: [r.secret] };
    const rt = runtimeFor([endpoint]);
    await rt.start("ops", "lookup:1");
    await dispatcher([endpoint]).flush();
    const [d] = r.deliveries as [Delivery];
    const verifier = new Webhook(r.secret);
    const headers = {
      "webhook-id": d.id,
      "webhook-timestamp": String(d.timestamp),
      "webhook-signature": d.signature,
    };
    expect(verifier.verify(d.body, headers)).toEqual(JSON.parse(d.body));
    const tampered = d.body.replace('"lookup"', '"deploy"');
    expect(tampered).not.toBe(d.body);
    expect(() => verifier.verify(tampered, headers)).toThrow(/signature/i);
    expect(() => verifier.verify(d.body, { ...headers, "webhook-id": `${d.id}x` })).toThrow(/signature/i);
    expect(() => verifier.verify(d.body, { ...headers, "webhook-timestamp": String(d.timestamp - 1) })).toThrow(
      /signature/i,
    );
    expect(() => verifier.verify(d.body, { ...headers, "webhook-timestamp": String(d.timestamp - 600) })).toThrow(
      /too old/i,
    );
    expect(() => new Webhook(newSecret()).verify(d.body, headers)).toThrow(/signature/i);
  });

  it("a redelivery keeps its webhook-id and is signed again with a fresh timestamp; nothing signed is stored", async () => {
    const r = await receiver();
    r.statuses.push(503);
    const endpoint = { url: r.url, secrets: [r.secret] };
    const rt = runtimeFor([endpoint]);
    await rt.start("ops", "lookup:2");
    const d = dispatcher([endpoint], { baseDelayMs: 1100 });
    expect(await d.flush()).toBe(1);
    const [row] = await store.listOutbox({ endpoint: r.url });
    expect(row).toMatchObject({ state: "pending", attempts: 1, lastStatus: 503, lastError: "HTTP 503" });
    // Not due yet: the backoff holds it back.
    expect(await d.flush()).toBe(0);
    await sleep(1400);
    expect(await d.flush()).toBe(1);
    const [first, second] = r.deliveries as [Delivery, Delivery];
    expect(first.status).toBe(503);
    expect(second.status).toBe(204);
    expect(second.id).toBe(first.id);
    expect(second.body).toBe(first.body);
    expect(second.timestamp).toBeGreaterThan(first.timestamp);
    expect(second.signature).not.toBe(first.signature);
    expect(second.verified.ok).toBe(true);
    const stored = JSON.stringify(await store.listOutbox({ endpoint: r.url }));
    for (const sig of [first.signature, second.signature]) {
      expect(stored).not.toContain(sig.split(",")[1] as string);
    }
    const raw = JSON.stringify(store.db.prepare("SELECT * FROM twelve_outbox").all());
    expect(raw).not.toContain((second.signature.split(",")[1] as string).slice(0, 20));
  });

  it("an endpoint answering 410 is disabled in the store; its rows wait while other endpoints still get theirs", async () => {
    const gone = await receiver();
    const live = await receiver();
    gone.statuses.push(410);
    const endpoints = [
      { url: gone.url, secrets: [gone.secret] },
      { url: live.url, secrets: [live.secret] },
    ];
    const rt = runtimeFor(endpoints);
    const d = dispatcher(endpoints);
    await rt.start("ops", "lookup:3");
    await d.flush();
    expect(gone.deliveries.map((x) => x.status)).toEqual([410]);
    expect(live.deliveries).toHaveLength(1);
    expect(await store.disabledOutboxEndpoints()).toEqual([
      expect.objectContaining({ endpoint: gone.url, reason: expect.stringContaining("410") }),
    ]);
    await rt.start("ops", "lookup:4");
    await d.flush();
    expect(gone.deliveries).toHaveLength(1);
    expect(live.deliveries).toHaveLength(2);
    expect(await store.listOutbox({ endpoint: gone.url, state: "pending" })).toHaveLength(2);
    // Enabled again (by an operator), the waiting rows go out with their ids.
    await store.setOutboxEndpoint(gone.url, { disabled: false });
    await d.flush();
    expect(gone.deliveries.map((x) => x.status)).toEqual([410, 204, 204]);
    expect(gone.deliveries[1]?.id).toBe(gone.deliveries[0]?.id);
  });

  it("rotation: every active secret signs each attempt, so receivers on the old or the new secret both verify", async () => {
    const oldSecret = newSecret();
    const newer = newSecret();
    const onOld = await receiver(oldSecret);
    const onNew = await receiver(newer);
    const endpoints = [
      { url: onOld.url, secrets: [oldSecret, newer] },
      { url: onNew.url, secrets: [oldSecret, newer] },
    ];
    const rt = runtimeFor(endpoints);
    await rt.start("ops", "lookup:5");
    await dispatcher(endpoints).flush();
    for (const r of [onOld, onNew]) {
      expect(r.deliveries).toHaveLength(1);
      const [d] = r.deliveries as [Delivery];
      expect(d.verified.ok).toBe(true);
      expect(d.signature.split(" ").map((s) => s.split(",")[0])).toEqual(["v1", "v1"]);
    }
    expect(onOld.deliveries[0]?.id).toBe(onNew.deliveries[0]?.id);
    // After the old secret is dropped, a receiver still on it rejects.
    const after = await receiver(oldSecret);
    const rt2 = runtimeFor([{ url: after.url, secrets: [newer] }]);
    await rt2.start("ops", "lookup:6");
    await dispatcher([{ url: after.url, secrets: [newer] }]).flush();
    expect(after.deliveries.map((x) => x.verified.ok)).toEqual([false]);
  });

  it("gives up after the retry period: the row is marked failed and never sent again", async () => {
    const r = await receiver();
    r.statuses.push(500, 500, 500);
    const endpoint = { url: r.url, secrets: [r.secret] };
    const rt = runtimeFor([endpoint]);
    await rt.start("ops", "lookup:7");
    const d = dispatcher([endpoint], { retryForMs: 1, baseDelayMs: 10 });
    await d.flush();
    await sleep(30);
    await d.flush();
    expect(r.deliveries).toHaveLength(1);
    expect((await store.listOutbox({ endpoint: r.url }))[0]).toMatchObject({
      state: "failed",
      attempts: 1,
      lastStatus: 500,
    });
  });

  it("an unreachable endpoint is retried with backoff (network errors and timeouts count as failures)", async () => {
    const r = await receiver();
    const url = r.url;
    await r.close();
    const endpoint = { url, secrets: [newSecret()] };
    const rt = runtimeFor([endpoint]);
    await rt.start("ops", "lookup:8");
    await dispatcher([endpoint]).flush();
    const [row] = await store.listOutbox({ endpoint: url });
    expect(row?.state).toBe("pending");
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toBeTruthy();
    expect(Date.parse(row?.nextAttemptAt ?? "")).toBeGreaterThan(Date.now());
  });

  it("two dispatchers on two handles of one store send each message once", async () => {
    const r = await receiver();
    const endpoint = { url: r.url, secrets: [r.secret] };
    const rt = runtimeFor([endpoint]);
    for (let i = 0; i < 12; i++) await rt.start("ops", `lookup:${i}`);
    const other = await openSqliteStore({ path: store.path });
    closers.push(() => other.close());
    const a = dispatcher([endpoint], { batchSize: 3 });
    const b = createWebhookDispatcher({ store: other, endpoints: [endpoint], pollIntervalMs: 60_000, batchSize: 3 });
    closers.push(() => b.stop({ flush: false }));
    const [na, nb] = await Promise.all([a.flush(), b.flush()]);
    expect(na + nb).toBe(12);
    expect(r.deliveries).toHaveLength(12);
    expect(new Set(r.deliveries.map((x) => x.id)).size).toBe(12);
  });

  it("backoff doubles up to the cap; bad endpoint secrets are config errors", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 10].map((n) => backoffMs(n, 1000, 5000, mid))).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(backoffMs(1, 1000, 5000, () => 0)).toBe(800);
    expect(backoffMs(1, 1000, 5000, () => 1)).toBe(1200);
    for (const secrets of [[], ["not base64 !!"]]) {
      try {
        createWebhookDispatcher({ store, endpoints: [{ url: "http://127.0.0.1:9/x", secrets }] });
        throw new Error("expected a config_invalid error");
      } catch (error) {
        expect(error).toBeInstanceOf(TwelveError);
        expect((error as TwelveError).code).toBe("config_invalid");
      }
    }
  });

  it("twelve serve's config: endpoints from the webhooks section, secrets from secrets.webhooks; a graceful shutdown sends what is due", async () => {
    const r = await receiver();
    const server = await startTestServer({
      store,
      config: {
        webhooks: { endpoints: [{ url: r.url, events: ["request.created"] }] },
        secrets: { webhooks: [r.secret] },
      },
    });
    let stopped = false;
    try {
      const launched = await fetch(
        `${server.url}/v1/agents/calculator/threads?wait=5`,
        json({ message: "divide 3 by 4" }),
      );
      const view = (await launched.json()) as { id: string; request: { id: string } };
      expect(view.request.id).toMatch(/^rq_/);
      // Shut down at once: the shutdown hook's last pass sends the due row (the poll would come later).
      await server.shutdown();
      stopped = true;
      expect(r.deliveries.map((d) => [d.verified.ok, payloadOf(d).type, payloadOf(d).data.threadId])).toEqual([
        [true, "request.created", view.id],
      ]);
      expect((await store.listOutbox({ endpoint: r.url }))[0]?.state).toBe("delivered");
    } finally {
      if (!stopped) await server.shutdown();
    }
  });
});

if (!reportPgSkip("outbound webhooks on PostgreSQL")) {
  describe("outbound webhooks on PostgreSQL", () => {
    it("three dispatchers on three pools (FOR UPDATE SKIP LOCKED) send each of 20 messages once, verified", async () => {
      const schema = freshSchema("webhooks");
      const url = PG_URL as string;
      const stores = await Promise.all([0, 1, 2].map(() => openPostgresStore({ url, schema, max: 3 })));
      const secret = newSecret();
      const receiving = await startReceiver(secret);
      const endpoint = { url: receiving.url, secrets: [secret] };
      try {
        const rt = createRuntime({
          store: stores[0] as PostgresThreadStore,
          agents: opsAgent([]),
          model: plannerModel(),
          outbox: { endpoints: outboxEndpoints([endpoint]) },
        });
        for (let i = 0; i < 20; i++) await rt.start("ops", `lookup:${i}`);
        const dispatchers = stores.map((s) =>
          createWebhookDispatcher({ store: s, endpoints: [endpoint], pollIntervalMs: 60_000, batchSize: 2 }),
        );
        const sent = await Promise.all(dispatchers.map((d) => d.flush()));
        for (const d of dispatchers) await d.stop({ flush: false });
        expect(sent.reduce((a, b) => a + b, 0)).toBe(20);
        expect(receiving.deliveries).toHaveLength(20);
        expect(receiving.deliveries.every((d) => d.verified.ok)).toBe(true);
        expect(new Set(receiving.deliveries.map((d) => d.id)).size).toBe(20);
        const rows = await (stores[0] as PostgresThreadStore).listOutbox({ limit: 1000 });
        expect(rows.map((row) => row.state)).toEqual(Array(20).fill("delivered"));
      } finally {
        await receiving.close();
        await (stores[0] as PostgresThreadStore).dropSchema();
        for (const s of stores) await s.close();
      }
    });
  });
}
