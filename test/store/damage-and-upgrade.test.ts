import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TwelveError } from "../../src/errors/index.js";
import { openPostgresStore, PG_MIGRATIONS } from "../../src/store/postgres/index.js";
import { loadSqliteDriver } from "../../src/store/sqlite/driver.js";
import { openSqliteStore, SQLITE_MIGRATIONS } from "../../src/store/sqlite/index.js";
import type { ThreadStore } from "../../src/store/types.js";
import { createThread } from "../../src/thread/thread.js";
import { freshSchema, PG_URL, reportPgSkip } from "./pg-env.js";

// The same driver the store uses (better-sqlite3 13 on Node 22+, 12 on Node 20).
const Database = await loadSqliteDriver();

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8");

async function codeOf(fn: () => Promise<unknown>): Promise<TwelveError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TwelveError);
    return error as TwelveError;
  }
  throw new Error("expected a TwelveError, but the call succeeded");
}

async function expectLegacyThread(store: ThreadStore) {
  const thread = await store.load("thr_legacy_0001");
  expect(thread.schemaVersion).toBe(1);
  expect(thread.events.map((e) => e.at)).toEqual(["2024-11-02T10:00:00.000Z", "2024-11-02T10:00:02.000Z"]);
  expect(thread.events[1]?.meta).toMatchObject({ kind: "step", policy: "approve" });
  const waiting = await store.list({ status: "awaiting_approval" });
  expect(waiting.threads.map((s) => s.id)).toEqual(["thr_legacy_0001"]);
  // The upgraded store works on the old thread: leases (added by migration 2) and appends.
  const lease = await store.acquireLease(thread.id, { owner: "upgrader" });
  const approval = {
    id: "evt_0003",
    type: "approval",
    data: { approved: true },
    at: new Date().toISOString(),
    meta: { stepId: "evt_0002" },
  };
  await store.append(thread.id, [approval], { expectedVersion: 2 });
  await store.releaseLease(lease);
  expect((await store.summary(thread.id)).status).toBe("running");
  expect((await store.load(thread.id)).events.map((e) => e.id)).toEqual(["evt_0001", "evt_0002", "evt_0003"]);
}

describe("SQLite store: older files upgrade, damaged files fail loudly", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "twelve-sqlite-files-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("opens a store written by store schema 1 holding a schemaVersion 0 thread, migrates it, and loads the thread", async () => {
    const path = join(dir, "v1.db");
    const raw = new Database(path);
    raw.exec(fixture("sqlite-store-v1.sql"));
    raw.close();
    const store = await openSqliteStore({ path });
    try {
      expect(store.db.pragma("user_version", { simple: true })).toBe(SQLITE_MIGRATIONS.length);
      await expectLegacyThread(store);
    } finally {
      await store.close();
    }
  });

  it("refuses a store written by a newer twelve", async () => {
    const path = join(dir, "newer.db");
    const raw = new Database(path);
    raw.exec("CREATE TABLE twelve_threads (id TEXT); PRAGMA user_version = 99;");
    raw.close();
    const err = await codeOf(() => openSqliteStore({ path }));
    expect(err.code).toBe("store_incompatible");
    expect(err.message).toMatch(/newer twelve/);
  });

  it("refuses a SQLite database that belongs to something else", async () => {
    const path = join(dir, "foreign.db");
    const raw = new Database(path);
    raw.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)");
    raw.close();
    const err = await codeOf(() => openSqliteStore({ path }));
    expect(err.code).toBe("store_incompatible");
    expect(err.message).toMatch(/invoices/);
  });

  it("reports a file that is not a database, or empty, as store_corrupt", async () => {
    const garbage = join(dir, "garbage.db");
    writeFileSync(garbage, "this is a text file, not a database\n".repeat(200));
    const err = await codeOf(() => openSqliteStore({ path: garbage }));
    expect(err.code).toBe("store_corrupt");
    expect(err.message).toContain(garbage);
    const empty = join(dir, "empty.db");
    writeFileSync(empty, "");
    const err2 = await codeOf(() => openSqliteStore({ path: empty }));
    expect(err2.code).toBe("store_corrupt");
    expect(err2.message).toMatch(/empty \(0 bytes\)/);
  });

  it("never returns a silently shortened result from a truncated file", async () => {
    const path = join(dir, "full.db");
    const store = await openSqliteStore({ path, synchronous: "normal" });
    for (let i = 0; i < 200; i++) {
      await store.create(
        createThread(
          "bulk",
          [{ id: "e1", type: "user_message", data: "x".repeat(400), at: new Date().toISOString() }],
          { id: `t${i}` },
        ),
      );
    }
    await store.close();
    const size = statSync(path).size;
    for (const fraction of [0.95, 0.6, 0.3, 0.02]) {
      const cut = join(dir, `cut-${fraction}.db`);
      copyFileSync(path, cut);
      truncateSync(cut, Math.floor(size * fraction));
      // Either every read is whole, or it fails with store_corrupt: never fewer threads and no error.
      const outcome = await (async () => {
        const s = await openSqliteStore({ path: cut });
        try {
          const ids: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await s.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
            ids.push(...page.threads.map((t) => t.id));
            cursor = page.nextCursor;
          } while (cursor);
          for (const id of ids) await s.load(id);
          return ids.length;
        } finally {
          await s.close();
        }
      })().catch((e: unknown) => e);
      if (typeof outcome === "number") expect(outcome).toBe(200);
      else expect((outcome as TwelveError).code, String(outcome)).toBe("store_corrupt");
    }
  });

  it("names the thread and event when a stored row is damaged", async () => {
    const path = join(dir, "rows.db");
    const store = await openSqliteStore({ path });
    try {
      const events = ["a", "b", "c"].map((id) => ({ id, type: "note", data: id, at: new Date().toISOString() }));
      await store.create(createThread("x", events, { id: "thr_badjson" }));
      await store.create(createThread("x", events, { id: "thr_missing" }));
      await store.create(createThread("x", events, { id: "thr_badstatus" }));
      store.db
        .prepare(
          'UPDATE twelve_events SET body = \'{"id": "b", "type":\' WHERE thread_id = \'thr_badjson\' AND seq = 2',
        )
        .run();
      store.db.prepare("DELETE FROM twelve_events WHERE thread_id = 'thr_missing' AND seq = 2").run();

      const bad = await codeOf(() => store.load("thr_badjson"));
      expect(bad.code).toBe("store_corrupt");
      expect(bad.message).toMatch(/thr_badjson: event #2 is not valid JSON/);
      const missing = await codeOf(() => store.load("thr_missing"));
      expect(missing.code).toBe("store_corrupt");
      expect(missing.message).toMatch(/thr_missing.*3 events but 2/);

      store.db.prepare("UPDATE twelve_threads SET status = 'exploded' WHERE id = 'thr_badstatus'").run();
      const status = await codeOf(() => store.list({ agent: "x", includeArchived: true }));
      expect(status.code).toBe("store_corrupt");
      expect(status.message).toMatch(/thr_badstatus.*exploded/);
    } finally {
      await store.close();
    }
  });
});

if (!reportPgSkip("PostgreSQL store: older schemas upgrade, damaged rows fail loudly")) {
  describe("PostgreSQL store: older schemas upgrade, damaged rows fail loudly", () => {
    const url = PG_URL as string;
    const schemas: string[] = [];
    let admin: pg.Pool;
    beforeAll(() => {
      admin = new pg.Pool({ connectionString: url, max: 2 });
    });
    afterAll(async () => {
      for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await admin.end();
    });
    const schema = (tag: string) => {
      const s = freshSchema(tag);
      schemas.push(s);
      return s;
    };

    it("migrates a schema left by migration 1 holding a schemaVersion 0 thread, and loads the thread", async () => {
      const s = schema("v1");
      await admin.query(fixture("postgres-store-v1.sql").replaceAll("$S", `"${s}"`));
      const store = await openPostgresStore({ url, schema: s });
      try {
        const { rows } = await admin.query(`SELECT version FROM "${s}".twelve_migrations ORDER BY version`);
        expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
        await expectLegacyThread(store);
      } finally {
        await store.close();
      }
    });

    it("refuses a schema migrated by a newer twelve", async () => {
      const s = schema("newer");
      await openPostgresStore({ url, schema: s }).then((st) => st.close());
      await admin.query(`INSERT INTO "${s}".twelve_migrations (version, name) VALUES (99, 'future')`);
      const err = await codeOf(() => openPostgresStore({ url, schema: s }));
      expect(err.code).toBe("store_incompatible");
      expect(err.message).toMatch(/newer twelve/);
    });

    it("names the thread when a stored row is not an event or an event is missing", async () => {
      const s = schema("rows");
      const store = await openPostgresStore({ url, schema: s });
      try {
        const events = ["a", "b", "c"].map((id) => ({ id, type: "note", data: id, at: new Date().toISOString() }));
        await store.create(createThread("x", events, { id: "thr_notevent" }));
        await store.create(createThread("x", events, { id: "thr_missing" }));
        await admin.query(
          `UPDATE "${s}".twelve_events SET body = '{"id": 5}' WHERE thread_id = 'thr_notevent' AND seq = 2`,
        );
        await admin.query(`DELETE FROM "${s}".twelve_events WHERE thread_id = 'thr_missing' AND seq = 3`);
        const bad = await codeOf(() => store.load("thr_notevent"));
        expect(bad.code).toBe("store_corrupt");
        expect(bad.message).toMatch(/thr_notevent.*events\[1\]\.id/);
        const missing = await codeOf(() => store.load("thr_missing"));
        expect(missing.code).toBe("store_corrupt");
      } finally {
        await store.close();
      }
    });

    it("says clearly when the server cannot be reached", async () => {
      const err = await codeOf(() => openPostgresStore({ url: "postgres://postgres@127.0.0.1:1/none" }));
      expect(err.code).toBe("store_unavailable");
      expect(err.message).toMatch(/cannot open the PostgreSQL store/);
    });
  });
}
