/**
 * Thread store benchmark (`npx tsx bench/suites/store.ts`).
 *
 * 1. Append latency (one event per append, as the loop commits a step):
 *    SQLite (synchronous FULL, NORMAL, and the default `barrier` with the
 *    loop's pattern: durable and non-durable appends alternating), PostgreSQL,
 *    memory.
 *    Floors in the same run: a raw better-sqlite3 INSERT transaction with the
 *    same fsync setting, and a raw pg INSERT transaction.
 * 2. Load time vs thread length (10, 100, 1000 events). Baselines: the JSON
 *    thread file `twelve run` used before the store (readFile + JSON.parse +
 *    parseThread), and a raw SELECT + JSON.parse with no checks.
 * 3. "List awaiting approval" with 100,000 threads in the store (target on
 *    SQLite: p50 under 5 ms). Baseline: the same query forced to scan the
 *    table (`NOT INDEXED`), which is what an unindexed status would cost.
 *
 * PostgreSQL runs when TWELVE_BENCH_DATABASE_URL or TWELVE_TEST_DATABASE_URL
 * is set (in a throwaway schema, dropped at the end). BENCH_STORE_QUICK=1
 * shrinks the iteration counts for a smoke run.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { approve, resume, run, threadState } from "../../src/index.js";
import { MemoryThreadStore } from "../../src/store/memory.js";
import { openPostgresStore, type PostgresThreadStore } from "../../src/store/postgres/index.js";
import { loadSqliteDriver } from "../../src/store/sqlite/driver.js";
import { openSqliteStore, type SqliteThreadStore } from "../../src/store/sqlite/index.js";
import type { ThreadStore } from "../../src/store/types.js";
import type { Event } from "../../src/thread/event.js";
import { createThread, parseThread, type Thread } from "../../src/thread/thread.js";
import { benchAgent, benchModel, newThread } from "../peers/contenders/twelve.js";
import { Meter } from "../peers/meter.js";
import { WORKLOADS } from "../peers/workload.js";

// The same driver the store uses (better-sqlite3 13 on Node 22+, 12 on Node 20).
const Database = await loadSqliteDriver();

const QUICK = process.env.BENCH_STORE_QUICK === "1";
const PG_URL = process.env.TWELVE_BENCH_DATABASE_URL ?? process.env.TWELVE_TEST_DATABASE_URL;
const THREADS = Number(process.env.BENCH_STORE_THREADS ?? (QUICK ? 20_000 : 100_000));

const dir = mkdtempSync(join(tmpdir(), "twelve-bench-store-"));
let seq = 0;
const event = (type: string, data: unknown, meta?: Event["meta"]): Event => {
  const e: Event = { id: `evt_${(++seq).toString(36).padStart(8, "0")}`, type, data, at: new Date().toISOString() };
  if (meta) e.meta = meta;
  return e;
};
/** A step-sized event: what the loop appends for a calculator step. */
const stepEvent = (i: number) =>
  event(
    "multiply",
    { intent: "multiply", a: i, b: 3 },
    { kind: "step", policy: "run", intent: "multiply", model: "bench" },
  );

interface Stats {
  p50: number;
  p99: number;
  mean: number;
  n: number;
}
function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length, n: s.length };
}
async function time(n: number, fn: (i: number) => unknown): Promise<Stats> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  return stats(samples);
}
const ms = (v: number) => (v < 0.1 ? `${(v * 1000).toFixed(1)} µs` : `${v.toFixed(v < 10 ? 3 : 1)} ms`);
function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.slice(1).map(line)].join("\n");
}

interface Target {
  name: string;
  store: ThreadStore;
  close: () => Promise<void>;
  /** The `durable` flag of append number i (default: every append durable). */
  durable?: (i: number) => boolean;
}

async function targets(): Promise<Target[]> {
  const out: Target[] = [];
  const full = await openSqliteStore({ path: join(dir, "full.db"), synchronous: "full" });
  out.push({ name: "SQLite (FULL)", store: full, close: () => full.close() });
  const barrier = await openSqliteStore({ path: join(dir, "barrier.db") });
  out.push({
    name: "SQLite (barrier, default)",
    store: barrier,
    close: () => barrier.close(),
    // As the agent loop commits: step + _started durable, then the result not.
    durable: (i) => i % 2 === 0,
  });
  const normal = await openSqliteStore({ path: join(dir, "normal.db"), synchronous: "normal" });
  out.push({ name: "SQLite (NORMAL)", store: normal, close: () => normal.close() });
  if (PG_URL) {
    const schema = `twelve_bench_${process.pid}`;
    const store = await openPostgresStore({ url: PG_URL, schema });
    out.push({
      name: "PostgreSQL",
      store,
      close: async () => {
        await store.dropSchema();
        await store.close();
      },
    });
  }
  out.push({ name: "memory", store: new MemoryThreadStore(), close: async () => {} });
  return out;
}

async function appendBench(all: Target[]): Promise<void> {
  const n = QUICK ? 100 : 500;
  const rows: (string | number)[][] = [];
  for (const t of all) {
    const thread = await t.store.create(
      createThread("bench", [event("user_message", "go")], { id: `thr_append_${t.name.length}_${seq}` }),
    );
    let version = thread.version;
    for (let i = 0; i < 20; i++)
      version = (await t.store.append(thread.id, [stepEvent(i)], { expectedVersion: version })).version;
    const s = await time(n, async (i) => {
      const durable = t.durable?.(i) ?? true;
      version = (await t.store.append(thread.id, [stepEvent(i)], { expectedVersion: version, durable })).version;
    });
    rows.push([
      t.name,
      t.durable ? "store.append (1 event), durable every other" : "store.append (1 event)",
      ms(s.p50),
      ms(s.p99),
      s.n,
    ]);
  }
  // Floors: the bare driver doing the least a durable append needs (insert a row, bump a counter) in one transaction.
  for (const mode of ["FULL", "NORMAL"]) {
    const db = new Database(join(dir, `raw-${mode}.db`));
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${mode}`);
    db.exec(
      "CREATE TABLE e (t TEXT, seq INTEGER, body TEXT, PRIMARY KEY (t, seq)); CREATE TABLE th (id TEXT PRIMARY KEY, v INTEGER)",
    );
    db.prepare("INSERT INTO th VALUES ('a', 0)").run();
    const ins = db.prepare("INSERT INTO e VALUES ('a', ?, ?)");
    const bump = db.prepare("UPDATE th SET v = ? WHERE id = 'a'");
    const tx = db.transaction((i: number) => {
      ins.run(i, JSON.stringify(stepEvent(i)));
      bump.run(i);
    });
    const s = await time(n, (i) => tx.immediate(i));
    rows.push([`better-sqlite3 raw (${mode})`, "INSERT + UPDATE, 1 transaction", ms(s.p50), ms(s.p99), s.n]);
    db.close();
  }
  if (PG_URL) {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    // A regular (WAL-logged) table: temp tables skip the WAL and would flatter the floor.
    const table = `twelve_bench_raw_${process.pid}`;
    await client.query(`CREATE TABLE ${table} (t text, seq int, body jsonb, PRIMARY KEY (t, seq))`);
    try {
      const s = await time(n, async (i) => {
        await client.query("BEGIN");
        await client.query(`INSERT INTO ${table} VALUES ('a', $1, $2)`, [i, JSON.stringify(stepEvent(i))]);
        await client.query("COMMIT");
      });
      rows.push(["pg raw", "BEGIN; INSERT; COMMIT", ms(s.p50), ms(s.p99), s.n]);
    } finally {
      await client.query(`DROP TABLE ${table}`);
      await client.end();
    }
  }
  console.log("## Append latency (one step event per append)\n");
  console.log(table(["store", "operation", "p50", "p99", "n"], rows));
  if (!PG_URL) console.log("\n(PostgreSQL skipped: set TWELVE_BENCH_DATABASE_URL or TWELVE_TEST_DATABASE_URL)");
}

async function loadBench(all: Target[]): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const length of [10, 100, 1000]) {
    const n = QUICK ? 20 : length === 1000 ? 100 : 300;
    const events = [event("user_message", "multiply 3 and 4, then keep going")];
    for (let i = 1; i < length; i++)
      events.push(
        i % 2 ? stepEvent(i) : event("multiply_result", { value: i * 3 }, { kind: "result", stepId: `evt_${i}` }),
      );
    const thread = createThread("bench", events, { id: `thr_load_${length}` });
    for (const t of all) {
      await t.store.create(thread);
      await t.store.load(thread.id);
      const s = await time(n, () => t.store.load(thread.id));
      rows.push([length, t.name, ms(s.p50), ms(s.p99), s.n]);
    }
    // Baseline: the JSON thread file `twelve run` wrote before the store.
    const file = join(dir, `thr_load_${length}.json`);
    writeFileSync(file, JSON.stringify(thread, null, 2));
    const f = await time(n, async () => parseThread(JSON.parse(await readFile(file, "utf8"))));
    rows.push([length, "JSON file (readFile + parse + parseThread)", ms(f.p50), ms(f.p99), f.n]);
    // Floor: the same rows straight from SQLite, no checks, no upgrade.
    const sqlite = all.find((t) => t.name.startsWith("SQLite (FULL"))?.store as SqliteThreadStore;
    const raw = sqlite.db.prepare("SELECT body FROM twelve_events WHERE thread_id = ? ORDER BY seq");
    const r = await time(n, () => (raw.all(thread.id) as { body: string }[]).map((x) => JSON.parse(x.body)));
    rows.push([length, "better-sqlite3 raw SELECT + JSON.parse", ms(r.p50), ms(r.p99), r.n]);
  }
  console.log("\n## Load time vs thread length\n");
  console.log(table(["events", "store", "p50", "p99", "n"], rows));
}

/** Realistic mix: 10% awaiting approval, 5% awaiting a human, 15% running, 70% done. */
function inboxThread(i: number): Thread {
  const user = event("user_message", `job ${i}`, { channel: `slack:C${i % 50}` });
  const kind = i % 20;
  let tail: Event;
  if (kind < 2)
    tail = event("deploy", { intent: "deploy", tag: `v${i}` }, { kind: "step", policy: "approve", intent: "deploy" });
  else if (kind < 3)
    tail = event(
      "request_human_input",
      { intent: "request_human_input", question: "which env?" },
      { kind: "step", policy: "human", intent: "request_human_input" },
    );
  else if (kind < 6) tail = event("add_result", { value: i }, { kind: "result", stepId: "x" });
  else
    tail = event(
      "done_for_now",
      { intent: "done_for_now", message: "ok" },
      { kind: "step", policy: "done", intent: "done_for_now" },
    );
  return createThread(i % 3 ? "deploybot" : "calculator", [user, tail], {
    id: `thr_inbox_${String(i).padStart(6, "0")}`,
  });
}

async function listBench(): Promise<void> {
  const rows: (string | number)[][] = [];
  const n = QUICK ? 50 : 300;
  const store = await openSqliteStore({ path: join(dir, "inbox.db"), synchronous: "normal" });
  let t0 = performance.now();
  // Every row goes through store.create (same derived columns as production); one outer
  // transaction only so filling 100k threads takes seconds, not minutes of fsyncs.
  const fill = store.db.transaction(() => {
    for (let i = 0; i < THREADS; i++) void store.create(inboxThread(i));
  });
  fill();
  const fillMs = performance.now() - t0;
  const measureList = async (label: string, target: ThreadStore, filter: Parameters<ThreadStore["list"]>[0]) => {
    await target.list(filter);
    const s = await time(n, () => target.list(filter));
    rows.push([label, ms(s.p50), ms(s.p99), s.n]);
    return s;
  };
  const first = await measureList("SQLite: list({status: awaiting_approval, limit: 50})", store, {
    status: "awaiting_approval",
    limit: 50,
  });
  await measureList("SQLite: list({pendingKind: approval, limit: 50})", store, { pendingKind: "approval", limit: 50 });
  await measureList("SQLite: list({status, agent: deploybot, limit: 50})", store, {
    status: "awaiting_approval",
    agent: "deploybot",
    limit: 50,
  });
  // Page 20 through cursors (rows 951-1000).
  let cursor: string | undefined;
  for (let p = 0; p < 19; p++)
    cursor = (await store.list({ status: "awaiting_approval", limit: 50, ...(cursor ? { cursor } : {}) })).nextCursor;
  await measureList("SQLite: page 20 by cursor (limit 50)", store, {
    status: "awaiting_approval",
    limit: 50,
    cursor: cursor as string,
  });
  t0 = performance.now();
  let total = 0;
  let c: string | undefined;
  do {
    const page = await store.list({ status: "awaiting_approval", limit: 1000, ...(c ? { cursor: c } : {}) });
    total += page.threads.length;
    c = page.nextCursor;
  } while (c);
  rows.push([`SQLite: all ${total} awaiting approval (pages of 1000)`, ms(performance.now() - t0), "", 1]);
  const scan = store.db.prepare(
    "SELECT * FROM twelve_threads NOT INDEXED WHERE archived_ms IS NULL AND status = 'awaiting_approval' ORDER BY updated_ms DESC, id DESC LIMIT 51",
  );
  const sc = await time(QUICK ? 10 : 30, () => scan.all());
  rows.push(["baseline: same query, table scan (NOT INDEXED)", ms(sc.p50), ms(sc.p99), sc.n]);
  const plan = store.db
    .prepare(
      "EXPLAIN QUERY PLAN SELECT * FROM twelve_threads WHERE archived_ms IS NULL AND status IN (?) ORDER BY updated_ms DESC, id DESC LIMIT 51",
    )
    .all("awaiting_approval") as { detail: string }[];
  await store.close();

  let pgNote = "(PostgreSQL skipped: no database URL)";
  if (PG_URL) {
    const schema = `twelve_bench_inbox_${process.pid}`;
    const pgStore: PostgresThreadStore = await openPostgresStore({ url: PG_URL, schema });
    try {
      t0 = performance.now();
      // Batches of concurrent creates through the store (pool of 10 connections).
      for (let i = 0; i < THREADS; i += 500) {
        await Promise.all(
          Array.from({ length: Math.min(500, THREADS - i) }, (_, k) => pgStore.create(inboxThread(i + k))),
        );
      }
      await pgStore.pool.query(`ANALYZE "${schema}".twelve_threads`);
      pgNote = `PostgreSQL filled with ${THREADS} threads in ${((performance.now() - t0) / 1000) | 0} s`;
      await measureList("PostgreSQL: list({status: awaiting_approval, limit: 50})", pgStore, {
        status: "awaiting_approval",
        limit: 50,
      });
      await measureList("PostgreSQL: list({pendingKind: approval, limit: 50})", pgStore, {
        pendingKind: "approval",
        limit: 50,
      });
    } finally {
      await pgStore.dropSchema();
      await pgStore.close();
    }
  }
  console.log(`\n## List awaiting approval: ${THREADS} threads in the store, ${total} of them awaiting approval\n`);
  console.log(table(["query", "p50", "p99", "n"], rows));
  console.log(`\nSQLite filled through store.create in ${(fillMs / 1000).toFixed(1)} s; ${pgNote}.`);
  console.log(`SQLite plan: ${plan.map((p) => p.detail).join("; ")}`);
  console.log(
    `target: SQLite list awaiting approval p50 < 5 ms → ${first.p50 < 5 ? "MET" : "NOT MET"} (${ms(first.p50)})`,
  );
}

/**
 * The store's own cost per append as the agent loop uses it: the 41 commits of
 * one peer-benchmark "resume" run (step + _started, approval, result, …),
 * recorded once and replayed on fresh threads at synchronous=NORMAL (no fsync),
 * with the loop's durable flags. Wall and CPU time per append.
 */
async function loopReplayBench(): Promise<void> {
  const batches: { events: Event[]; durable: boolean }[] = [];
  const meter = new Meter(WORKLOADS.resume);
  meter.startRun();
  const agent = benchAgent(meter, true);
  const model = benchModel(meter);
  const commit = async (t: Thread, added: Event[], durable: boolean) => {
    batches.push({ events: structuredClone(added), durable });
    return t;
  };
  const first = newThread();
  let thread = await run(agent, first, { model, commit });
  while (threadState(thread).status === "awaiting_approval") {
    thread = await resume(agent, thread, approve(), { model, commit });
  }
  const store = await openSqliteStore({ path: join(dir, "replay.db"), synchronous: "normal" });
  const runs = QUICK ? 50 : 400;
  let wallNs = 0n;
  let cpuUs = 0;
  let appends = 0;
  try {
    for (let r = 0; r < runs + 20; r++) {
      const id = `thr_replay_${r}`;
      await store.create({ ...first, id, events: first.events.slice(0, 1), version: 1 });
      let version = 1;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (const b of batches) {
        version = (await store.append(id, b.events, { expectedVersion: version, durable: b.durable })).version;
      }
      const wall = process.hrtime.bigint() - t0;
      const cpu = process.cpuUsage(c0);
      if (r < 20) continue; // warm-up
      wallNs += wall;
      cpuUs += cpu.user + cpu.system;
      appends += batches.length;
    }
  } finally {
    await store.close();
  }
  console.log("\n## The loop's appends (a resume run's commits replayed, SQLite NORMAL)\n");
  console.log(
    table(
      ["store", "appends", "wall µs/append", "CPU µs/append"],
      [["SQLite (NORMAL)", appends, (Number(wallNs) / appends / 1000).toFixed(1), (cpuUs / appends).toFixed(1)]],
    ),
  );
}

const all = await targets();
try {
  await appendBench(all);
  await loopReplayBench();
  await loadBench(all);
} finally {
  for (const t of all) await t.close();
}
await listBench();
rmSync(dir, { recursive: true, force: true });
