import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resume } from "../../src/agent/resume.js";
import { run } from "../../src/agent/run.js";
import { approve } from "../../src/index.js";
import { storeCommit } from "../../src/runtime/index.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore, type SqliteThreadStore } from "../../src/store/sqlite/index.js";
import { scriptedModel } from "../../src/testing.js";
import { deterministicRuntime, makeEvent } from "../../src/thread/event.js";
import { createThread, type Thread } from "../../src/thread/thread.js";
import { newThread, testAgent } from "../agent/fixtures.js";
import { freshSchema, PG_URL, reportPgSkip } from "./pg-env.js";

/** The connection's PRAGMA synchronous right now: 2 = FULL (fsync per commit), 1 = NORMAL. */
const level = (store: SqliteThreadStore) => store.db.pragma("synchronous", { simple: true }) as number;

describe("SQLite durability modes", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "twelve-durability-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("barrier is the default and switches the connection per commit: FULL when durable, NORMAL when not", async () => {
    const store = await openSqliteStore({ path: join(dir, "t.db") });
    try {
      expect(store.synchronous).toBe("barrier");
      const rt = deterministicRuntime();
      const thread = await store.create(createThread("a", [makeEvent(rt, "user_message", "hi")], { runtime: rt }));
      expect(level(store)).toBe(2);
      const seen: number[] = [];
      let version = thread.version;
      for (const durable of [false, false, true, undefined, false]) {
        const options = durable === undefined ? { expectedVersion: version } : { expectedVersion: version, durable };
        version = (await store.append(thread.id, [makeEvent(rt, "note", version)], options)).version;
        seen.push(level(store));
      }
      // undefined → durable (the default for callers that do not say).
      expect(seen).toEqual([1, 1, 2, 2, 1]);
      // Every commit is in the database, durable or not.
      const reopened = await openSqliteStore({ path: join(dir, "t.db") });
      expect((await reopened.load(thread.id)).events.map((e) => e.data)).toEqual(["hi", 1, 2, 3, 4, 5]);
      await reopened.close();
    } finally {
      await store.close();
    }
  });

  it("the loop's commits reach the connection as FULL before side effects and pauses, NORMAL for results", async () => {
    const store = await openSqliteStore({ path: join(dir, "t.db") });
    try {
      const { thread, runtime } = newThread();
      await store.create(thread);
      const agent = testAgent();
      const inner = storeCommit(store);
      const log: string[] = [];
      const commit = async (t: Thread, added: Parameters<typeof inner>[1], durable: boolean) => {
        const stored = await inner(t, added, durable);
        log.push(`${added.map((e) => e.type).join("+")}:${level(store) === 2 ? "FULL" : "NORMAL"}`);
        return stored;
      };
      const paused = await run(agent, thread, {
        model: scriptedModel([
          { intent: "charge", cents: 10 },
          { intent: "charge", cents: 5000 },
        ]),
        runtime,
        commit,
      });
      await resume(agent, await store.load(paused.id), approve(), {
        model: scriptedModel([{ intent: "done_for_now", message: "ok" }]),
        runtime,
        commit,
      });
      expect(log).toEqual([
        "charge+charge_started:FULL",
        "charge_result:NORMAL",
        "charge:FULL",
        "approval:FULL",
        "charge_started:FULL",
        "charge_result:NORMAL",
        "done_for_now:FULL",
      ]);
      expect((await store.summary(paused.id)).status).toBe("done");
    } finally {
      await store.close();
    }
  });

  for (const [mode, expected] of [
    ["full", 2],
    ["normal", 1],
  ] as const) {
    it(`synchronous: "${mode}" ignores the flag and stays ${mode.toUpperCase()}`, async () => {
      const store = await openSqliteStore({ path: join(dir, "t.db"), synchronous: mode });
      try {
        const rt = deterministicRuntime();
        const thread = await store.create(createThread("a", [makeEvent(rt, "user_message", "hi")], { runtime: rt }));
        let version = thread.version;
        for (const durable of [false, true, false]) {
          version = (
            await store.append(thread.id, [makeEvent(rt, "note", version)], { expectedVersion: version, durable })
          ).version;
          expect(level(store)).toBe(expected);
        }
      } finally {
        await store.close();
      }
    });
  }

  it("an unknown mode is a store_config error", async () => {
    await expect(
      openSqliteStore({ path: join(dir, "t.db"), synchronous: "sometimes" as unknown as "full" }),
    ).rejects.toMatchObject({ code: "store_config" });
  });
});

if (!reportPgSkip("PostgreSQL durability flag")) {
  describe("PostgreSQL durability flag", () => {
    it("a non-durable append commits without leaking synchronous_commit=off to the pooled connection", async () => {
      const pool = new pg.Pool({ connectionString: PG_URL, max: 1 });
      const schema = freshSchema("durability");
      const store = await openPostgresStore({ pool, schema });
      try {
        const rt = deterministicRuntime();
        const thread = await store.create(createThread("a", [makeEvent(rt, "user_message", "hi")], { runtime: rt }));
        const r1 = await store.append(thread.id, [makeEvent(rt, "note", 1)], { expectedVersion: 1, durable: false });
        expect(r1.version).toBe(2);
        // One connection in the pool: the append's SET LOCAL ended with its transaction.
        expect((await pool.query("SHOW synchronous_commit")).rows[0].synchronous_commit).toBe("on");
        await store.append(thread.id, [makeEvent(rt, "note", 2)], { expectedVersion: 2 });
        expect((await store.load(thread.id)).events.map((e) => e.data)).toEqual(["hi", 1, 2]);
      } finally {
        await store.dropSchema();
        await store.close();
        await pool.end();
      }
    });
  });
}
