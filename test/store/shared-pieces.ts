import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAgent } from "../../src/agent/agent.js";
import type { TwelveError } from "../../src/errors/index.js";
import { defineIntent } from "../../src/intent/intent.js";
import { scriptedModel } from "../../src/model/scripted.js";
import { receiveInbound, recoverInbound } from "../../src/runtime/inbound.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { IdempotencyConflictError, ThreadExistsError } from "../../src/store/errors.js";
import type { PostgresThreadStore } from "../../src/store/postgres/store.js";
import type { SqliteThreadStore } from "../../src/store/sqlite/store.js";
import type { StoreTransaction, ThreadStore, ThreadSummary } from "../../src/store/types.js";
import type { Event } from "../../src/thread/event.js";
import { digestOf } from "../../src/thread/json-safe.js";
import { threadState } from "../../src/thread/status.js";
import { createThread } from "../../src/thread/thread.js";
import { expectCode, type StoreHarness } from "./contract.js";

/**
 * The contract of the three store pieces every entry point reuses:
 * launch idempotency (`createOnce`), transactional side rows (`sideRows` on
 * append) and inbound records. Each store's test calls this with the same
 * harness as the main contract; tests isolate themselves by unique ids.
 */

let counter = 0;
const uid = (prefix: string) => `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`;
const ev = (type: string, data: unknown = {}): Event => ({ id: uid("evt"), type, data, at: new Date().toISOString() });

interface OutboxRow {
  thread_id: string;
  version: number;
  note: string;
}

/**
 * A side table the hook writes in the append's transaction: a real table on
 * SQLite and PostgreSQL. The memory store has no transaction to write in, so
 * there only the hook's calls (and the append's rollback) can be checked.
 */
interface Outbox {
  transactional: boolean;
  setup(): Promise<void>;
  /** Writes a row in the append's transaction; synchronously where the store needs it. */
  write(tx: StoreTransaction, row: OutboxRow): void | Promise<void>;
  rows(threadId: string): Promise<OutboxRow[]>;
}

function outboxFor(store: ThreadStore): Outbox {
  if (store.kind === "sqlite") {
    const db = (store as SqliteThreadStore).db;
    return {
      transactional: true,
      async setup() {
        db.exec(
          "CREATE TABLE IF NOT EXISTS test_outbox (thread_id TEXT NOT NULL, version INTEGER NOT NULL, note TEXT)",
        );
      },
      write(tx, row) {
        if (tx.kind !== "sqlite") throw new Error(`expected a sqlite transaction, got ${tx.kind}`);
        tx.db
          .prepare("INSERT INTO test_outbox (thread_id, version, note) VALUES (?, ?, ?)")
          .run(row.thread_id, row.version, row.note);
      },
      async rows(threadId) {
        return db
          .prepare("SELECT thread_id, version, note FROM test_outbox WHERE thread_id = ? ORDER BY version")
          .all(threadId) as OutboxRow[];
      },
    };
  }
  if (store.kind === "postgres") {
    const pg = store as PostgresThreadStore;
    const table = `"${pg.schema}".test_outbox`;
    return {
      transactional: true,
      async setup() {
        await pg.pool.query(
          `CREATE TABLE IF NOT EXISTS ${table} (thread_id text NOT NULL, version integer NOT NULL, note text)`,
        );
      },
      async write(tx, row) {
        if (tx.kind !== "postgres") throw new Error(`expected a postgres transaction, got ${tx.kind}`);
        await tx.client.query(`INSERT INTO ${table} (thread_id, version, note) VALUES ($1, $2, $3)`, [
          row.thread_id,
          row.version,
          row.note,
        ]);
      },
      async rows(threadId) {
        const { rows } = await pg.pool.query<OutboxRow>(
          `SELECT thread_id, version, note FROM ${table} WHERE thread_id = $1 ORDER BY version`,
          [threadId],
        );
        return rows;
      },
    };
  }
  return {
    transactional: false,
    async setup() {},
    write(tx) {
      if (tx.kind !== "memory") throw new Error(`expected a memory transaction, got ${tx.kind}`);
    },
    async rows() {
      return [];
    },
  };
}

export function sharedPiecesContract(name: string, open: () => Promise<StoreHarness>): void {
  describe(`store pieces: ${name}`, () => {
    let h: StoreHarness;
    let store: ThreadStore;
    let outbox: Outbox;
    const others: ThreadStore[] = [];
    beforeAll(async () => {
      h = await open();
      store = h.store;
      outbox = outboxFor(store);
      await outbox.setup();
    });
    afterAll(async () => {
      for (const o of others) await o.close();
      await h?.cleanup();
    });

    const newThread = async (agent = uid("agent")) =>
      store.create(createThread(agent, [ev("user_message", { text: "hi" })], { id: uid("thr") }));

    /** A hook writing one outbox row per call, recording what it was given. */
    function recordingHook(note = "sent") {
      const calls: ThreadSummary[] = [];
      const hook = (tx: StoreTransaction, summary: ThreadSummary) => {
        calls.push(summary);
        return outbox.write(tx, { thread_id: summary.id, version: summary.version, note });
      };
      return { calls, hook };
    }

    describe("side rows (append's sideRows hook)", () => {
      it("commit together with the events, and the hook sees the append's summary", async () => {
        const t = await newThread();
        const { calls, hook } = recordingHook();
        const result = await store.append(t.id, [ev("add", { a: 1 }), ev("note")], {
          expectedVersion: 1,
          sideRows: hook,
        });
        expect(result.duplicate).toBe(false);
        expect(calls).toHaveLength(1);
        expect(calls[0]).toEqual(result.summary);
        expect(calls[0]?.version).toBe(3);
        expect((await store.load(t.id)).version).toBe(3);
        if (outbox.transactional) {
          expect(await outbox.rows(t.id)).toEqual([{ thread_id: t.id, version: 3, note: "sent" }]);
        }
      });

      it("a throwing hook rolls the events back and its error propagates", async () => {
        const t = await newThread();
        const boom = new Error("outbox unavailable");
        const err = await store
          .append(t.id, [ev("a"), ev("b")], {
            expectedVersion: 1,
            sideRows: (tx, summary) => {
              const written = outbox.write(tx, { thread_id: summary.id, version: summary.version, note: "lost" });
              if (written instanceof Promise) return written.then(() => Promise.reject(boom));
              throw boom;
            },
          })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(err).toBe(boom);
        const loaded = await store.load(t.id);
        expect(loaded.version).toBe(1);
        expect((await store.summary(t.id)).version).toBe(1);
        expect(await outbox.rows(t.id)).toEqual([]);
        // The thread is as it was: the next append at the old version goes through.
        const { hook } = recordingHook("after");
        expect((await store.append(t.id, [ev("c")], { expectedVersion: 1, sideRows: hook })).version).toBe(2);
        if (outbox.transactional) expect((await outbox.rows(t.id)).map((r) => r.note)).toEqual(["after"]);
      });

      it("a version conflict writes no side row and does not call the hook", async () => {
        const t = await newThread();
        await store.append(t.id, [ev("a")], { expectedVersion: 1 });
        const { calls, hook } = recordingHook();
        await expectCode(store.append(t.id, [ev("b")], { expectedVersion: 1, sideRows: hook }), "version_conflict");
        expect(calls).toEqual([]);
        expect(await outbox.rows(t.id)).toEqual([]);
        expect((await store.load(t.id)).version).toBe(2);
      });

      it("a repeated idempotency key writes no second side row", async () => {
        const t = await newThread();
        const { calls, hook } = recordingHook();
        const first = await store.append(t.id, [ev("approval", { ok: true })], {
          expectedVersion: 1,
          idempotencyKey: "slack:U1:approve",
          sideRows: hook,
        });
        const again = await store.append(t.id, [ev("approval", { ok: true })], {
          expectedVersion: 1,
          idempotencyKey: "slack:U1:approve",
          sideRows: hook,
        });
        expect(first.duplicate).toBe(false);
        expect(again.duplicate).toBe(true);
        expect(calls).toHaveLength(1);
        if (outbox.transactional) expect(await outbox.rows(t.id)).toHaveLength(1);
      });

      it("non-durable appends and empty appends run the hook too", async () => {
        const t = await newThread();
        const { calls, hook } = recordingHook();
        await store.append(t.id, [ev("a_result", 1)], { expectedVersion: 1, durable: false, sideRows: hook });
        await store.append(t.id, [], { expectedVersion: 2, idempotencyKey: "empty", sideRows: hook });
        expect(calls.map((s) => s.version)).toEqual([2, 2]);
        if (outbox.transactional) expect((await outbox.rows(t.id)).map((r) => r.version)).toEqual([2, 2]);
        // The empty append took its key: a repeat is a duplicate, with no hook call.
        const again = await store.append(t.id, [], { expectedVersion: 2, idempotencyKey: "empty", sideRows: hook });
        expect(again.duplicate).toBe(true);
        expect(calls).toHaveLength(2);
      });

      it("an async hook: refused with side_rows_async on SQLite (rolled back), awaited elsewhere", async () => {
        const t = await newThread();
        let ran = false;
        const hook = async (tx: StoreTransaction, summary: ThreadSummary) => {
          await outbox.write(tx, { thread_id: summary.id, version: summary.version, note: "async" });
          ran = true;
        };
        if (store.kind === "sqlite") {
          const err = await expectCode(
            store.append(t.id, [ev("a")], { expectedVersion: 1, sideRows: hook }),
            "side_rows_async",
          );
          expect(err.message).toMatch(/synchronous/);
          expect((await store.load(t.id)).version).toBe(1);
          expect(await outbox.rows(t.id)).toEqual([]);
        } else {
          const result = await store.append(t.id, [ev("a")], { expectedVersion: 1, sideRows: hook });
          expect(ran).toBe(true);
          expect(result.version).toBe(2);
          if (outbox.transactional) expect((await outbox.rows(t.id)).map((r) => r.note)).toEqual(["async"]);
          // A hook rejecting after a wait rolls back too, and the thread is not left locked.
          const err = await store
            .append(t.id, [ev("b")], {
              expectedVersion: 2,
              sideRows: async () => {
                await new Promise((r) => setTimeout(r, 20));
                throw new Error("late failure");
              },
            })
            .then(
              () => undefined,
              (e: unknown) => e as Error,
            );
          expect(err?.message).toBe("late failure");
          expect((await store.load(t.id)).version).toBe(2);
          expect((await store.append(t.id, [ev("c")], { expectedVersion: 2 })).version).toBe(3);
        }
      });

      it("of concurrent appends with hooks at one version, one commits and writes its row", async () => {
        const t = await newThread();
        const { calls, hook } = recordingHook();
        const outcomes = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            store.append(t.id, [ev("approval", { by: `u${i}` })], { expectedVersion: 1, sideRows: hook }),
          ),
        );
        expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        for (const o of outcomes) {
          if (o.status === "rejected") expect((o.reason as TwelveError).code).toBe("version_conflict");
        }
        expect(calls).toHaveLength(1);
        if (outbox.transactional) expect(await outbox.rows(t.id)).toHaveLength(1);
        expect((await store.load(t.id)).version).toBe(2);
      });

      if (name === "postgres") {
        it("a hook that swallows its own failed query cannot commit a half transaction", async () => {
          const t = await newThread();
          const err = await expectCode(
            store.append(t.id, [ev("a")], {
              expectedVersion: 1,
              sideRows: async (tx) => {
                if (tx.kind !== "postgres") throw new Error("expected postgres");
                await tx.client.query("SELECT no_such_column FROM no_such_table").catch(() => {});
              },
            }),
            "transaction_aborted",
          );
          expect(err.message).toMatch(/rolled the transaction back/);
          expect((await store.load(t.id)).version).toBe(1);
        });
      }
    });

    describe("launch idempotency (createOnce)", () => {
      const launch = (agent: string, text: string) =>
        createThread(agent, [ev("user_message", { text })], { id: uid("thr") });

      it("creates once; a repeat with the same body returns the existing thread, whatever its own id", async () => {
        const agent = uid("agent");
        const key = uid("key");
        const opts = { scope: `launch:${agent}`, key, bodyHash: "h1" };
        const first = await store.createOnce(launch(agent, "deploy"), opts);
        expect(first.created).toBe(true);
        expect((await store.load(first.thread.id)).events).toEqual(first.thread.events);
        // The thread moves on; a repeat returns it as it is now.
        await store.append(first.thread.id, [ev("note")], { expectedVersion: 1 });
        const repeat = launch(agent, "deploy");
        const again = await store.createOnce(repeat, opts);
        expect(again.created).toBe(false);
        expect(again.thread.id).toBe(first.thread.id);
        expect(again.thread.version).toBe(2);
        expect(await store.get(repeat.id)).toBeUndefined();
        expect((await store.list({ agent })).threads.map((s) => s.id)).toEqual([first.thread.id]);
      });

      it("the same key with another body hash is an idempotency_conflict naming the thread", async () => {
        const agent = uid("agent");
        const key = uid("key");
        const first = await store.createOnce(launch(agent, "a"), { scope: "s", key, bodyHash: "h1" });
        const err = await expectCode(
          store.createOnce(launch(agent, "b"), { scope: "s", key, bodyHash: "h2" }),
          "idempotency_conflict",
        );
        expect(err).toBeInstanceOf(IdempotencyConflictError);
        expect(err.details).toEqual({ scope: "s", key, threadId: first.thread.id });
        expect((await store.list({ agent })).threads).toHaveLength(1);
      });

      it("keys are per scope", async () => {
        const agent = uid("agent");
        const key = uid("key");
        const a = await store.createOnce(launch(agent, "x"), { scope: "launch:a", key, bodyHash: "h" });
        const b = await store.createOnce(launch(agent, "x"), { scope: "launch:b", key, bodyHash: "h" });
        expect(a.created && b.created).toBe(true);
        expect(a.thread.id).not.toBe(b.thread.id);
      });

      it("a taken thread id fails with thread_exists and leaves the key free", async () => {
        const agent = uid("agent");
        const taken = await newThread(agent);
        const key = uid("key");
        const thread = createThread(agent, [ev("user_message")], { id: taken.id });
        const err = await expectCode(store.createOnce(thread, { scope: "s", key, bodyHash: "h" }), "thread_exists");
        expect(err).toBeInstanceOf(ThreadExistsError);
        const retry = await store.createOnce(launch(agent, "x"), { scope: "s", key, bodyHash: "h" });
        expect(retry.created).toBe(true);
      });

      it("refuses an empty key or scope", async () => {
        await expectCode(store.createOnce(launch("a", "x"), { scope: "s", key: "", bodyHash: "h" }), "invalid_input");
        await expectCode(store.createOnce(launch("a", "x"), { scope: "", key: "k", bodyHash: "h" }), "invalid_input");
      });

      const race = async (stores: ThreadStore[]) => {
        const agent = uid("agent");
        const key = uid("key");
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (stores[i % stores.length] as ThreadStore).createOnce(launch(agent, "go"), {
              scope: `launch:${agent}`,
              key,
              bodyHash: "same",
            }),
          ),
        );
        expect(outcomes.filter((o) => o.created)).toHaveLength(1);
        expect(new Set(outcomes.map((o) => o.thread.id)).size).toBe(1);
        expect((await store.list({ agent })).threads).toHaveLength(1);
      };

      it("of 20 concurrent calls with one key, exactly one creates", async () => {
        await race([store]);
      });

      it("of 20 concurrent calls over two connections, exactly one creates", async () => {
        if (!h.reopen) return;
        const other = await h.reopen();
        others.push(other);
        await race([store, other]);
      });

      it("pruneIdempotency deletes older keys: a retried launch then creates a new thread", async () => {
        const agent = uid("agent");
        const key = uid("key");
        const opts = { scope: "prune", key, bodyHash: "h" };
        const first = await store.createOnce(launch(agent, "x"), opts);
        expect(await store.pruneIdempotency(new Date(Date.now() - 3_600_000))).toBe(0);
        expect((await store.createOnce(launch(agent, "x"), opts)).created).toBe(false);
        expect(await store.pruneIdempotency(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
        const after = await store.createOnce(launch(agent, "x"), opts);
        expect(after.created).toBe(true);
        expect(after.thread.id).not.toBe(first.thread.id);
      });

      it("runtime.start with an idempotency key runs once and returns the same thread on a repeat", async () => {
        const add = defineIntent("add", z.object({ a: z.number(), b: z.number() }), {
          description: "add",
          handler: ({ a, b }) => a + b,
        });
        const agent = defineAgent({ name: uid("adder"), instructions: "add", intents: [add] });
        const model = scriptedModel([
          { intent: "add", a: 1, b: 2 },
          { intent: "done_for_now", message: "3" },
        ]);
        const runtime = createRuntime({ store, agents: agent, model });
        const key = uid("idem");
        const first = await runtime.start(agent, "add 1 and 2", { idempotency: { key } });
        expect(first.duplicate).toBe(false);
        expect(first.state.status).toBe("done");
        const again = await runtime.start(agent, "add 1 and 2", { idempotency: { key } });
        expect(again.duplicate).toBe(true);
        expect(again.thread.id).toBe(first.thread.id);
        expect(again.thread.events).toEqual(first.thread.events);
        expect(model.calls).toHaveLength(2);
        await expectCode(runtime.start(agent, "add 2 and 2", { idempotency: { key } }), "idempotency_conflict");
        expect(model.calls).toHaveLength(2);
        expect((await store.list({ agent: agent.name })).threads).toHaveLength(1);
      });

      it("runtime.start continues a launch whose thread was created but never run (a crash in between)", async () => {
        const agent = defineAgent({ name: uid("crashy"), instructions: "x", intents: [] });
        const key = uid("idem");
        // What a process that died right after createOnce leaves behind.
        const orphan = createThread(agent.name, [
          { id: uid("evt"), type: "user_message", data: "hello", at: new Date().toISOString() },
        ]);
        const bodyHash = digestOf({ agent: agent.name, first: { type: "user_message", data: "hello" } });
        await store.createOnce(orphan, { scope: `launch:${agent.name}`, key, bodyHash });
        expect(threadState(await store.load(orphan.id)).status).toBe("running");
        const model = scriptedModel([{ intent: "done_for_now", message: "hi" }]);
        const runtime = createRuntime({ store, agents: agent, model });
        const again = await runtime.start(agent, "hello", { idempotency: { key } });
        expect(again.duplicate).toBe(true);
        expect(again.thread.id).toBe(orphan.id);
        expect(again.state.status).toBe("done");
        model.assertDone();
      });
    });

    describe("inbound records", () => {
      it("records once; a redelivery is a duplicate reporting whether it was processed", async () => {
        const source = uid("slack");
        const payload = { event: { type: "message", text: "deploy v2 ✓", ts: "1730541600.000100" }, n: [1, 2.5, null] };
        const first = await store.recordInbound({ source, id: "Ev1", payload });
        expect(first).toMatchObject({ duplicate: false, processed: false });
        expect(Date.parse(first.receivedAt)).not.toBeNaN();
        const again = await store.recordInbound({ source, id: "Ev1", payload: { other: true } });
        expect(again).toEqual({ duplicate: true, processed: false, receivedAt: first.receivedAt });
        const pending = await store.pendingInbound({ source });
        expect(pending).toEqual([{ source, id: "Ev1", payload, receivedAt: first.receivedAt, attempts: 0 }]);
        await store.markInboundProcessed(source, "Ev1");
        expect(await store.pendingInbound({ source })).toEqual([]);
        expect(await store.recordInbound({ source, id: "Ev1", payload })).toMatchObject({
          duplicate: true,
          processed: true,
        });
      });

      it("keeps any JSON payload as it was", async () => {
        const source = uid("webhook");
        const payloads = [
          "raw text\nFrom: a@b.c",
          42,
          null,
          true,
          [],
          { nul: "a\u0000b", emoji: "🚀", deep: { x: [{}] } },
        ];
        for (const [i, payload] of payloads.entries()) await store.recordInbound({ source, id: `m${i}`, payload });
        const pending = await store.pendingInbound({ source });
        expect(pending.map((r) => r.payload)).toEqual(payloads);
      });

      it("a failed attempt counts, keeps the error and leaves the record pending; success marks it for good", async () => {
        const source = uid("smtp");
        await store.recordInbound({ source, id: "<m1@x>", payload: { subject: "hi" } });
        await store.markInboundProcessed(source, "<m1@x>", { error: new Error("model timed out") });
        await store.markInboundProcessed(source, "<m1@x>", { error: "still down" });
        let [record] = await store.pendingInbound({ source });
        expect(record).toMatchObject({ attempts: 2, lastError: "still down" });
        expect(record?.processedAt).toBeUndefined();
        await store.markInboundProcessed(source, "<m1@x>");
        expect(await store.pendingInbound({ source })).toEqual([]);
        // Marks after that change nothing: it stays processed.
        await store.markInboundProcessed(source, "<m1@x>", { error: "late" });
        await store.markInboundProcessed(source, "<m1@x>");
        expect((await store.recordInbound({ source, id: "<m1@x>", payload: null })).processed).toBe(true);
        [record] = await store.pendingInbound({ source });
        expect(record).toBeUndefined();
        await expectCode(store.markInboundProcessed(source, "never-recorded"), "inbound_not_found");
      });

      it("lists pending records oldest first, by source, up to a limit, and older than a given age", async () => {
        const a = uid("a");
        const b = uid("b");
        for (const [i, source] of [a, b, a, b, a].entries()) {
          await store.recordInbound({ source, id: `r${i}`, payload: i });
          await new Promise((r) => setTimeout(r, 3));
        }
        expect((await store.pendingInbound({ source: a })).map((r) => r.id)).toEqual(["r0", "r2", "r4"]);
        expect((await store.pendingInbound({ source: b, limit: 1 })).map((r) => r.id)).toEqual(["r1"]);
        const all = (await store.pendingInbound({ limit: 1000 })).filter((r) => r.source === a || r.source === b);
        expect(all.map((r) => r.id)).toEqual(["r0", "r1", "r2", "r3", "r4"]);
        expect(await store.pendingInbound({ source: a, olderThanMs: 60_000 })).toEqual([]);
        await new Promise((r) => setTimeout(r, 30));
        expect((await store.pendingInbound({ source: a, olderThanMs: 10 })).map((r) => r.id)).toEqual([
          "r0",
          "r2",
          "r4",
        ]);
        await expectCode(store.pendingInbound({ limit: 0 }), "invalid_input");
      });

      it("of 20 concurrent recordings of one delivery, exactly one is new", async () => {
        const source = uid("slack");
        const stores = h.reopen ? [store, await h.reopen()] : [store];
        if (stores[1]) others.push(stores[1]);
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (stores[i % stores.length] as ThreadStore).recordInbound({ source, id: "same", payload: { i } }),
          ),
        );
        expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1);
        expect(await store.pendingInbound({ source })).toHaveLength(1);
      });

      it("receiveInbound records, acknowledges, processes and marks; redeliveries are not processed again", async () => {
        const source = uid("slack");
        const seen: unknown[] = [];
        const order: string[] = [];
        const process = async (payload: unknown) => {
          order.push("process");
          seen.push(payload);
        };
        const ack = () => {
          order.push("ack");
        };
        const payload = { text: "hello", at: new Date(0) };
        expect(await receiveInbound(store, { source, id: "e1", payload }, process, { ack })).toEqual({
          duplicate: false,
          processed: true,
        });
        expect(order).toEqual(["ack", "process"]);
        // The processor gets the payload as stored (JSON), as recovery would.
        expect(seen).toEqual([{ text: "hello", at: "1970-01-01T00:00:00.000Z" }]);
        expect(await receiveInbound(store, { source, id: "e1", payload }, process)).toEqual({
          duplicate: true,
          processed: true,
        });
        expect(seen).toHaveLength(1);
        expect(await store.pendingInbound({ source })).toEqual([]);
      });

      it("a failing processor: the error propagates, the record stays pending, recoverInbound finishes it", async () => {
        const source = uid("webhook");
        const failing = async () => {
          throw new Error("downstream 503");
        };
        await expect(receiveInbound(store, { source, id: "w1", payload: { n: 1 } }, failing)).rejects.toThrow(
          "downstream 503",
        );
        await store.recordInbound({ source, id: "w2", payload: { n: 2 } });
        expect(await recoverInbound(store, failing, { source })).toEqual({ processed: 0, failed: 2 });
        const pending = await store.pendingInbound({ source });
        expect(pending.map((r) => [r.id, r.attempts, r.lastError])).toEqual([
          ["w1", 2, "downstream 503"],
          ["w2", 1, "downstream 503"],
        ]);
        const done: unknown[] = [];
        const ok = async (payload: unknown) => {
          done.push(payload);
        };
        expect(await recoverInbound(store, ok, { source })).toEqual({ processed: 2, failed: 0 });
        expect(done).toEqual([{ n: 1 }, { n: 2 }]);
        expect(await recoverInbound(store, ok, { source })).toEqual({ processed: 0, failed: 0 });
      });
    });
  });
}
