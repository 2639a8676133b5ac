import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withOutbox } from "../../src/store/outbox.js";
import { openPostgresStore, PG_MIGRATIONS } from "../../src/store/postgres/index.js";
import { loadSqliteDriver } from "../../src/store/sqlite/driver.js";
import { openSqliteStore, SQLITE_MIGRATIONS } from "../../src/store/sqlite/index.js";
import type { ThreadStore, ThreadSummary } from "../../src/store/types.js";
import type { Event, EventMeta } from "../../src/thread/event.js";
import { threadState } from "../../src/thread/status.js";
import { createThread, type Thread } from "../../src/thread/thread.js";
import { freshSchema, PG_URL, reportPgSkip } from "./pg-env.js";

/**
 * Store schema 6 adds the webhook outbox and its disabled endpoints. A
 * database at schema 5 (migrations 1–5 exactly, holding threads in every
 * state, launch keys and inbound records) must open, upgrade, keep every
 * thread and record as it was, and then take outbox rows and the
 * `cancelled` status.
 */

const Database = await loadSqliteDriver();

const AGENT = "upgrader6";
const at = (s: number) => new Date(Date.UTC(2025, 7, 1, 12, 0, s)).toISOString();
const ev = (id: string, s: number, type: string, data: unknown, meta?: EventMeta): Event =>
  meta ? { id, type, data, at: at(s), meta } : { id, type, data, at: at(s) };
const trigger = ev("e1", 0, "user_message", { text: "deploy v2" });
const step = (policy: EventMeta["policy"], intent: string, data: Record<string, unknown> = {}) =>
  ev("e2", 1, intent, { intent, ...data }, { kind: "step", policy, intent });

const CASES: { id: string; events: Event[] }[] = [
  { id: "thr_running", events: [trigger] },
  { id: "thr_approval", events: [trigger, step("approve", "deploy", { tag: "v2" })] },
  { id: "thr_done", events: [trigger, step("done", "done_for_now", { message: "deployed" })] },
  { id: "thr_failed", events: [trigger, ev("e2", 1, "failed", { reason: "too many errors" })] },
];

type Seeded = Map<string, { thread: Thread; summary: ThreadSummary }>;

async function seed(store: ThreadStore): Promise<Seeded> {
  const seeded: Seeded = new Map();
  for (const c of CASES) {
    await store.create(createThread(AGENT, c.events, { id: c.id }));
    seeded.set(c.id, { thread: await store.load(c.id), summary: await store.summary(c.id) });
  }
  await store.createOnce(createThread(AGENT, [trigger], { id: "thr_launched" }), {
    scope: "launch:u6",
    key: "k1",
    bodyHash: "h",
  });
  seeded.set("thr_launched", {
    thread: await store.load("thr_launched"),
    summary: await store.summary("thr_launched"),
  });
  await store.recordInbound({ source: "slack", id: "Ev1", payload: { text: "hi" } });
  return seeded;
}

async function expectSameAndNew(store: ThreadStore, seeded: Seeded): Promise<void> {
  for (const [id, before] of seeded) {
    const loaded = await store.load(id);
    expect(loaded, id).toEqual(before.thread);
    expect(await store.summary(id), id).toEqual(before.summary);
    expect(before.summary.status, id).toBe(threadState(loaded).status);
  }
  const repeat = await store.createOnce(createThread(AGENT, [trigger]), {
    scope: "launch:u6",
    key: "k1",
    bodyHash: "h",
  });
  expect(repeat).toMatchObject({ created: false, thread: { id: "thr_launched" } });
  expect((await store.pendingInbound({ source: "slack" })).map((r) => r.id)).toEqual(["Ev1"]);
}

/** The outbox and the cancelled status on the upgraded store. */
async function expectOutboxWorks(store: ThreadStore): Promise<void> {
  const s = withOutbox(store, { endpoints: [{ name: "ops" }] });
  await s.append("thr_approval", [ev("c1", 9, "cancelled", { reason: "stop" })], { expectedVersion: 2 });
  expect(await store.summary("thr_approval")).toMatchObject({ status: "cancelled" });
  expect((await store.list({ agent: AGENT, status: "cancelled" })).threads.map((t) => t.id)).toEqual(["thr_approval"]);
  const [row] = await store.claimOutbox({ endpoints: ["ops"], leaseMs: 10_000 });
  expect(row).toMatchObject({ type: "thread.cancelled", threadId: "thr_approval", state: "pending" });
  expect(await store.settleOutbox(row as { id: number; claimToken: string }, { delivered: true })).toBe(true);
  expect((await store.listOutbox({ endpoint: "ops" }))[0]?.state).toBe("delivered");
}

describe("SQLite store: a schema 5 file upgrades to schema 6", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "twelve-sqlite-v6-"));
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

  it("keeps every thread and record, then writes and claims outbox rows", async () => {
    expect(SQLITE_MIGRATIONS).toHaveLength(6);
    const seededPath = join(dir, "seeded.db");
    const seeder = await openSqliteStore({ path: seededPath });
    const seeded = await seed(seeder);
    await seeder.close();

    const path = join(dir, "v5.db");
    const raw = new Database(path);
    raw.pragma("journal_mode = WAL");
    for (const sql of SQLITE_MIGRATIONS.slice(0, 5)) raw.exec(sql);
    raw.pragma("user_version = 5");
    raw.exec(`ATTACH DATABASE '${seededPath.replaceAll("'", "''")}' AS seeded`);
    for (const table of [
      "twelve_threads",
      "twelve_events",
      "twelve_idempotency",
      "twelve_launches",
      "twelve_inbound",
    ]) {
      raw.exec(`INSERT INTO main.${table} SELECT * FROM seeded.${table}`);
    }
    raw.exec("DETACH DATABASE seeded");
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
    expect(tables.map((t) => (t as { name: string }).name)).not.toContain("twelve_outbox");
    raw.close();

    const store = await openSqliteStore({ path });
    try {
      expect(store.db.pragma("user_version", { simple: true })).toBe(6);
      await expectSameAndNew(store, seeded);
      await expectOutboxWorks(store);
    } finally {
      await store.close();
    }
    const freshPath = join(dir, "fresh.db");
    await (await openSqliteStore({ path: freshPath })).close();
    expect(schemaOf(path)).toEqual(schemaOf(freshPath));
    const again = await openSqliteStore({ path });
    try {
      expect(again.db.pragma("user_version", { simple: true })).toBe(6);
      expect((await again.listOutbox({ endpoint: "ops" })).map((r) => r.state)).toEqual(["delivered"]);
    } finally {
      await again.close();
    }
  });
});

if (!reportPgSkip("PostgreSQL store: a schema at migration 5 upgrades to migration 6")) {
  describe("PostgreSQL store: a schema at migration 5 upgrades to migration 6", () => {
    const url = PG_URL as string;
    const seededSchema = freshSchema("v6seed");
    const schema = freshSchema("v6");
    const freshOne = freshSchema("v6fresh");
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
          `SELECT table_name, column_name, data_type, is_nullable,
             replace(coalesce(column_default, ''), $1, 'S') AS column_default
           FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, column_name`,
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

    it("keeps every thread and record, then writes and claims outbox rows", async () => {
      expect(PG_MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6]);
      const seeder = await openPostgresStore({ url, schema: seededSchema });
      const seeded = await seed(seeder);
      await seeder.close();

      const S = `"${schema}"`;
      await admin.query(`CREATE SCHEMA ${S}`);
      await admin.query(
        `CREATE TABLE ${S}.twelve_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      for (const m of PG_MIGRATIONS.slice(0, 5)) {
        await admin.query(m.sql.replaceAll("$S", S));
        await admin.query(`INSERT INTO ${S}.twelve_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
      }
      for (const table of [
        "twelve_threads",
        "twelve_events",
        "twelve_idempotency",
        "twelve_launches",
        "twelve_inbound",
      ]) {
        await admin.query(`INSERT INTO ${S}.${table} SELECT * FROM "${seededSchema}".${table}`);
      }

      const store = await openPostgresStore({ url, schema });
      try {
        const migrated = await admin.query(`SELECT version FROM ${S}.twelve_migrations ORDER BY version`);
        expect(migrated.rows.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6]);
        await expectSameAndNew(store, seeded);
        await expectOutboxWorks(store);
      } finally {
        await store.close();
      }
      await (await openPostgresStore({ url, schema: freshOne })).close();
      const norm = (rows: Record<string, unknown>[], s: string) =>
        rows.map((r) => ({ ...r, column_default: String(r.column_default).replaceAll(s, "S") }));
      expect(norm(await columnsOf(schema), schema)).toEqual(norm(await columnsOf(freshOne), freshOne));
      expect(await indexesOf(schema)).toEqual(await indexesOf(freshOne));
    });
  });
}
