import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore, PG_MIGRATIONS } from "../../src/store/postgres/index.js";
import { loadSqliteDriver } from "../../src/store/sqlite/driver.js";
import { openSqliteStore, SQLITE_MIGRATIONS } from "../../src/store/sqlite/index.js";
import type { ThreadStore, ThreadSummary } from "../../src/store/types.js";
import type { Event, EventMeta } from "../../src/thread/event.js";
import { threadState } from "../../src/thread/status.js";
import { createThread, type Thread } from "../../src/thread/thread.js";
import { freshSchema, PG_URL, reportPgSkip } from "./pg-env.js";

/**
 * Store schema 5 adds two tables: launch idempotency keys (createOnce) and
 * inbound records. A database at schema 4 (built by migrations 1–4 exactly,
 * holding threads in every state) must open, upgrade, and keep every thread
 * loadable with the same derived state; then the new pieces work on it.
 */

const Database = await loadSqliteDriver();

const AGENT = "upgrader5";
const at = (s: number) => new Date(Date.UTC(2025, 5, 1, 12, 0, s)).toISOString();
const ev = (id: string, s: number, type: string, data: unknown, meta?: EventMeta): Event =>
  meta ? { id, type, data, at: at(s), meta } : { id, type, data, at: at(s) };
const trigger = ev("e1", 0, "user_message", { text: "deploy v2" }, { channel: "slack:C1/1.2" });
const step = (policy: EventMeta["policy"], intent: string, data: Record<string, unknown> = {}) =>
  ev("e2", 1, intent, { intent, ...data }, { kind: "step", policy, intent });

const CASES: { id: string; events: Event[]; archived?: boolean }[] = [
  { id: "thr_running", events: [trigger] },
  { id: "thr_approval", events: [trigger, step("approve", "deploy", { tag: "v2" })] },
  {
    id: "thr_question",
    events: [trigger, step("human", "request_human_input", { question: "Which env?" })],
  },
  { id: "thr_async", events: [trigger, step("async", "run_ci", { ref: "main" })] },
  { id: "thr_done", events: [trigger, step("done", "done_for_now", { message: "deployed" })] },
  { id: "thr_failed", events: [trigger, ev("e2", 1, "failed", { reason: "too many errors" })] },
  { id: "thr_archived", events: [trigger, step("approve", "deploy", { tag: "v1" })], archived: true },
];

type Seeded = Map<string, { thread: Thread; summary: ThreadSummary }>;

/** Writes the cases with the current store (its rows are what schema 4 holds: migration 5 adds tables only). */
async function seed(store: ThreadStore): Promise<Seeded> {
  const seeded: Seeded = new Map();
  for (const c of CASES) {
    await store.create(createThread(AGENT, c.events, { id: c.id }));
    if (c.archived) await store.archive(c.id);
    // Annotations and idempotency keys from before the upgrade must survive it too.
    await store
      .append(c.id, [ev("n1", 5, "note", { text: "seen" }, { annotation: true })], {
        expectedVersion: c.events.length,
        idempotencyKey: `k-${c.id}`,
      })
      .catch((error) => {
        if (!c.archived) throw error;
      });
    seeded.set(c.id, { thread: await store.load(c.id), summary: await store.summary(c.id) });
  }
  return seeded;
}

async function expectSameThreads(store: ThreadStore, seeded: Seeded): Promise<void> {
  for (const c of CASES) {
    const before = seeded.get(c.id) as { thread: Thread; summary: ThreadSummary };
    const loaded = await store.load(c.id);
    expect(loaded, c.id).toEqual(before.thread);
    const summary = await store.summary(c.id);
    expect(summary, c.id).toEqual(before.summary);
    const state = threadState(loaded);
    expect(summary.status, c.id).toBe(state.status);
    expect(summary.pending?.kind, c.id).toBe(state.pending?.kind);
  }
  const listed = await store.list({ agent: AGENT, includeArchived: true });
  expect(listed.threads.map((s) => s.id).sort()).toEqual(CASES.map((c) => c.id).sort());
  expect((await store.list({ agent: AGENT, pendingKind: "approval" })).threads.map((s) => s.id)).toEqual([
    "thr_approval",
  ]);
  // An old idempotency key still answers as a duplicate.
  const again = await store.append("thr_running", [ev("n9", 9, "note", {}, { annotation: true })], {
    expectedVersion: 1,
    idempotencyKey: "k-thr_running",
  });
  expect(again.duplicate).toBe(true);
}

/** The new pieces on the upgraded store: launch keys, inbound records, side rows. */
async function expectPiecesWork(store: ThreadStore): Promise<void> {
  const first = await store.createOnce(createThread("launcher", [trigger], { id: "thr_launched" }), {
    scope: "launch:upgrader5",
    key: "k1",
    bodyHash: "h",
  });
  expect(first.created).toBe(true);
  const again = await store.createOnce(createThread("launcher", [trigger], { id: "thr_other" }), {
    scope: "launch:upgrader5",
    key: "k1",
    bodyHash: "h",
  });
  expect(again).toMatchObject({ created: false, thread: { id: "thr_launched" } });
  expect(await store.recordInbound({ source: "slack", id: "Ev1", payload: { text: "hi" } })).toMatchObject({
    duplicate: false,
  });
  expect(await store.recordInbound({ source: "slack", id: "Ev1", payload: { text: "hi" } })).toMatchObject({
    duplicate: true,
  });
  expect((await store.pendingInbound({ source: "slack" })).map((r) => r.id)).toEqual(["Ev1"]);
  let hooked: ThreadSummary | undefined;
  await store.append("thr_launched", [step("approve", "deploy", { tag: "v3" })], {
    expectedVersion: 1,
    sideRows: (tx, summary) => {
      expect(tx.kind).toBe(store.kind);
      hooked = summary;
    },
  });
  expect(hooked).toMatchObject({
    id: "thr_launched",
    status: "awaiting_approval",
    pendingKind: "approval",
    version: 2,
  });
}

describe("SQLite store: a schema 4 file upgrades to schema 5", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "twelve-sqlite-v5-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const schemaOf = (path: string) => {
    const raw = new Database(path, { readonly: true });
    try {
      return raw
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .all();
    } finally {
      raw.close();
    }
  };

  it("keeps every thread loadable with the same derived state, then the new pieces work", async () => {
    expect(SQLITE_MIGRATIONS.length).toBeGreaterThanOrEqual(5);
    // The rows, written by the current store.
    const seededPath = join(dir, "seeded.db");
    const seeder = await openSqliteStore({ path: seededPath });
    const seeded = await seed(seeder);
    await seeder.close();

    // A schema 4 file: migrations 1–4 exactly, holding those rows.
    const path = join(dir, "v4.db");
    const raw = new Database(path);
    raw.pragma("journal_mode = WAL");
    for (const sql of SQLITE_MIGRATIONS.slice(0, 4)) raw.exec(sql);
    raw.pragma("user_version = 4");
    raw.exec(`ATTACH DATABASE '${seededPath.replaceAll("'", "''")}' AS seeded`);
    for (const table of ["twelve_threads", "twelve_events", "twelve_idempotency"]) {
      raw.exec(`INSERT INTO main.${table} SELECT * FROM seeded.${table}`);
    }
    raw.exec("DETACH DATABASE seeded");
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(tables.map((t) => (t as { name: string }).name)).toEqual([
      "twelve_events",
      "twelve_idempotency",
      "twelve_threads",
    ]);
    raw.close();

    const store = await openSqliteStore({ path });
    try {
      expect(store.db.pragma("user_version", { simple: true })).toBe(SQLITE_MIGRATIONS.length);
      await expectSameThreads(store, seeded);
      await expectPiecesWork(store);
    } finally {
      await store.close();
    }
    // The upgraded file has exactly the schema of a new one.
    const freshPath = join(dir, "fresh.db");
    await (await openSqliteStore({ path: freshPath })).close();
    expect(schemaOf(path)).toEqual(schemaOf(freshPath));
    // Opening again changes nothing.
    const again = await openSqliteStore({ path });
    try {
      expect(again.db.pragma("user_version", { simple: true })).toBe(SQLITE_MIGRATIONS.length);
      await expectSameThreads(again, seeded);
      const repeat = await again.createOnce(createThread("launcher", [trigger]), {
        scope: "launch:upgrader5",
        key: "k1",
        bodyHash: "h",
      });
      expect(repeat.created).toBe(false);
    } finally {
      await again.close();
    }
  });
});

if (!reportPgSkip("PostgreSQL store: a schema at migration 4 upgrades to migration 5")) {
  describe("PostgreSQL store: a schema at migration 4 upgrades to migration 5", () => {
    const url = PG_URL as string;
    const seededSchema = freshSchema("v5seed");
    const schema = freshSchema("v5");
    const freshOne = freshSchema("v5fresh");
    let admin: pg.Pool;
    beforeAll(() => {
      admin = new pg.Pool({ connectionString: url, max: 2 });
    });
    afterAll(async () => {
      for (const s of [seededSchema, schema, freshOne]) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      await admin.end();
    });

    const columnsOf = async (s: string) =>
      (
        await admin.query(
          `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
           WHERE table_schema = $1 ORDER BY table_name, column_name`,
          [s],
        )
      ).rows;
    const indexesOf = async (s: string) =>
      (
        await admin.query(
          "SELECT indexname, replace(indexdef, $1, 'S') AS def FROM pg_indexes WHERE schemaname = $2 ORDER BY indexname",
          [s, s],
        )
      ).rows;

    it("keeps every thread loadable with the same derived state, then the new pieces work", async () => {
      expect(PG_MIGRATIONS.map((m) => m.version).slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
      const seeder = await openPostgresStore({ url, schema: seededSchema });
      const seeded = await seed(seeder);
      await seeder.close();

      // A schema at migration 4: migrations 1–4 exactly, recorded as the store records them, holding those rows.
      const S = `"${schema}"`;
      await admin.query(`CREATE SCHEMA ${S}`);
      await admin.query(
        `CREATE TABLE ${S}.twelve_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      for (const m of PG_MIGRATIONS.slice(0, 4)) {
        await admin.query(m.sql.replaceAll("$S", S));
        await admin.query(`INSERT INTO ${S}.twelve_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      }
      for (const table of ["twelve_threads", "twelve_events", "twelve_idempotency"]) {
        await admin.query(`INSERT INTO ${S}.${table} SELECT * FROM "${seededSchema}".${table}`);
      }
      const before = await admin.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
        [schema],
      );
      expect(before.rows.map((r) => r.table_name)).toEqual([
        "twelve_events",
        "twelve_idempotency",
        "twelve_migrations",
        "twelve_threads",
      ]);

      const store = await openPostgresStore({ url, schema });
      try {
        const migrated = await admin.query(`SELECT version FROM ${S}.twelve_migrations ORDER BY version`);
        expect(migrated.rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
        await expectSameThreads(store, seeded);
        await expectPiecesWork(store);
      } finally {
        await store.close();
      }
      await (await openPostgresStore({ url, schema: freshOne })).close();
      expect(await columnsOf(schema)).toEqual(await columnsOf(freshOne));
      expect(await indexesOf(schema)).toEqual(await indexesOf(freshOne));
      const again = await openPostgresStore({ url, schema });
      try {
        const migrated = await admin.query(`SELECT version FROM ${S}.twelve_migrations ORDER BY version`);
        expect(migrated.rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version));
        await expectSameThreads(again, seeded);
      } finally {
        await again.close();
      }
    });
  });
}
