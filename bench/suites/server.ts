/**
 * HTTP server benchmark (`npx tsx bench/suites/server.ts`).
 *
 * With a zero-latency thread-keyed model (the rules model), on SQLite and
 * on PostgreSQL, against a real listening `startServer` on 127.0.0.1:
 *
 * 1. Decision POST → the next model call issued, p50 / p99, at 1 and at 100
 *    concurrent threads (the goal: p99 < 20 ms at 100 on PostgreSQL). Beside
 *    it, the library call the POST wraps (`worker.answer`), so the HTTP
 *    layer's own cost shows.
 * 2. Launches per second (POST, 202), beside `worker.start`.
 * 3. `GET /v1/threads/:id` requests per second, beside `store.load` + the view.
 * 4. Server RSS with N paused threads vs with 0 (the goal: a paused thread
 *    costs no process memory; run with --expose-gc for a stable figure).
 *
 * SQLite keeps its default durability (fsync per durable append): its
 * numbers are what one writer's fsyncs allow. PostgreSQL runs when
 * TWELVE_BENCH_DATABASE_URL or TWELVE_TEST_DATABASE_URL is set (in a
 * throwaway schema). BENCH_SERVER_QUICK=1 shrinks the counts.
 */
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { defineAgent } from "../../src/agent/agent.js";
import { loadConfig } from "../../src/config/index.js";
import { defineIntent } from "../../src/intent/intent.js";
import { rulesModel } from "../../src/model/rules.js";
import type { GenerateRequest, Model } from "../../src/model/types.js";
import { startServer } from "../../src/server/serve.js";
import { threadView } from "../../src/server/views.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { ThreadStore } from "../../src/store/types.js";

const QUICK = process.env.BENCH_SERVER_QUICK === "1";
const PG_URL = process.env.TWELVE_BENCH_DATABASE_URL ?? process.env.TWELVE_TEST_DATABASE_URL;
const ROUNDS_1 = QUICK ? 30 : 200;
const LAUNCHES = QUICK ? 100 : 500;
const GETS = QUICK ? 500 : 3000;
const PAUSED = Number(process.env.BENCH_SERVER_PAUSED ?? (QUICK ? 1000 : 10_000));

const operands = z.object({ a: z.number(), b: z.number() });
const agent = defineAgent({
  name: "calculator",
  instructions: "Divide.",
  intents: [
    defineIntent("divide", operands, { description: "Divide a by b", policy: "approve", handler: ({ a, b }) => a / b }),
  ],
});

/** The rules model, noting when each thread's model call is issued (the end of "decision → next model call"). */
const calls = new Map<string, (at: number) => void>();
const inner = rulesModel([
  { when: { lastType: "user_message" }, answer: { intent: "divide", a: 3, b: 4 } },
  { when: { lastType: "divide_result" }, answer: { intent: "done_for_now", message: "{{last.data}}" } },
]);
const model: Model = {
  ...inner,
  generate(request: GenerateRequest) {
    const id = request.thread?.id;
    if (id) {
      const waiter = calls.get(id);
      if (waiter) {
        calls.delete(id);
        waiter(performance.now());
      }
    }
    return inner.generate(request);
  },
};
const nextCall = (threadId: string) => new Promise<number>((resolve) => calls.set(threadId, resolve));

const stats = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), n: s.length };
};
const ms = (v: number) => `${v.toFixed(2)} ms`;
const rows: string[][] = [];
const row = (...cells: string[]) => rows.push(cells);

async function bench(name: string, store: ThreadStore): Promise<void> {
  const config = await loadConfig({ config: { server: { maxWaitSeconds: 30 } }, env: {} });
  const quiet = { info() {}, warn() {}, error: (m: string, f?: unknown) => console.error(m, f) };
  const server = await startServer({ config, agents: [agent], model, store, port: 0, logger: quiet });
  const { worker } = server.ctx;
  const base = server.url;
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  type Paused = { id: string; request: { id: string; argsDigest: string } };
  const pausedThread = async (): Promise<Paused> =>
    (await (await post("/v1/agents/calculator/threads?wait=10", { message: "divide 3 by 4" })).json()) as Paused;
  const pausedViaLibrary = async (): Promise<Paused> => {
    const r = await worker.runtime.start("calculator", "divide 3 by 4");
    return { id: r.thread.id, request: { id: r.request?.id ?? "", argsDigest: r.request?.argsDigest ?? "" } };
  };

  try {
    // 1. decision → next model call
    for (const concurrency of [1, 100]) {
      const rounds = concurrency === 1 ? ROUNDS_1 : QUICK ? 2 : 5;
      for (const via of ["HTTP POST /v1/requests/:id", "library worker.answer"] as const) {
        const samples: number[] = [];
        for (let r = 0; r < rounds; r++) {
          const threads = await Promise.all(
            Array.from({ length: concurrency }, () => (via.startsWith("HTTP") ? pausedThread() : pausedViaLibrary())),
          );
          const done = await Promise.all(
            threads.map(async (t) => {
              const called = nextCall(t.id);
              const start = performance.now();
              if (via.startsWith("HTTP")) {
                const res = await post(`/v1/requests/${t.request.id}`, {
                  decision: "approve",
                  digest: t.request.argsDigest,
                });
                if (res.status !== 202) throw new Error(`decision answered ${res.status}: ${await res.text()}`);
              } else {
                await worker.answer({ decision: "approve", requestId: t.request.id, digest: t.request.argsDigest });
              }
              const at = await called;
              await worker.settled(t.id, 10_000);
              return at - start;
            }),
          );
          samples.push(...done);
        }
        const s = stats(samples);
        row(name, `decision → next model call, ${concurrency} concurrent (${via})`, ms(s.p50), ms(s.p99), String(s.n));
      }
    }

    // 2. launches per second (sequential, 202 at acceptance)
    for (const via of ["HTTP POST /v1/agents/:agent/threads", "library worker.start"] as const) {
      const ids: string[] = [];
      const start = performance.now();
      for (let i = 0; i < LAUNCHES; i++) {
        if (via.startsWith("HTTP")) {
          const res = await post("/v1/agents/calculator/threads", { message: "divide 3 by 4" });
          ids.push(((await res.json()) as { id: string }).id);
        } else ids.push((await worker.start("calculator", "divide 3 by 4")).thread.id);
      }
      const seconds = (performance.now() - start) / 1000;
      for (const id of ids) await worker.settled(id, 10_000);
      row(name, `launches per second (${via})`, (LAUNCHES / seconds).toFixed(0), "", String(LAUNCHES));
    }

    // 3. GET /v1/threads/:id per second
    const one = await pausedThread();
    for (const via of ["HTTP GET /v1/threads/:id", "library store.load + view"] as const) {
      const start = performance.now();
      for (let i = 0; i < GETS; i++) {
        if (via.startsWith("HTTP")) await (await fetch(`${base}/v1/threads/${one.id}`)).arrayBuffer();
        else JSON.stringify(threadView(await store.load(one.id), { busy: worker.busy(one.id) }));
      }
      const seconds = (performance.now() - start) / 1000;
      row(name, `reads per second (${via})`, (GETS / seconds).toFixed(0), "", String(GETS));
    }

    // 4. RSS with N paused threads vs 0 (after the work above settled)
    const gc = (globalThis as { gc?: () => void }).gc;
    const rss = () => {
      gc?.();
      return process.memoryUsage().rss / 1024 / 1024;
    };
    const before = rss();
    for (let i = 0; i < PAUSED; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, PAUSED - i) }, () => worker.runtime.start("calculator", "divide 3 by 4")),
      );
    }
    const after = rss();
    row(
      name,
      `server RSS with ${PAUSED} more paused threads${gc ? "" : " (no --expose-gc: noisy)"}`,
      `${before.toFixed(1)} MB → ${after.toFixed(1)} MB`,
      `${(((after - before) * 1024) / PAUSED).toFixed(2)} KB/thread`,
      String(PAUSED),
    );
  } finally {
    await server.shutdown();
  }
}

/** The floor: a bare node:http server answering a constant JSON body, fetched the same way. */
async function floor(): Promise<void> {
  const raw = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => raw.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(raw.address() as { port: number }).port}/`;
  const start = performance.now();
  for (let i = 0; i < GETS; i++) await (await fetch(url)).arrayBuffer();
  row(
    "-",
    "reads per second (bare node:http, constant body: the floor)",
    (GETS / ((performance.now() - start) / 1000)).toFixed(0),
    "",
    String(GETS),
  );
  raw.close();
}
await floor();

const dir = mkdtempSync(join(tmpdir(), "twelve-bench-server-"));
const sqlite = await openSqliteStore({ path: join(dir, "server.db") });
await bench("SQLite", sqlite);
await sqlite.close();
if (PG_URL) {
  const pgStore = await openPostgresStore({ url: PG_URL, schema: `twelve_bench_server_${process.pid}` });
  try {
    await bench("PostgreSQL", pgStore);
  } finally {
    await pgStore.dropSchema();
    await pgStore.close();
  }
} else console.log("PostgreSQL skipped: set TWELVE_BENCH_DATABASE_URL or TWELVE_TEST_DATABASE_URL");

const widths = [10, 70, 26, 18, 6];
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 10)).join(" ");
console.log(line(["store", "measure", "p50 / rate", "p99", "n"]));
for (const r of rows) console.log(line(r));
console.log(
  "\nThe HTTP rows and the library rows beside them differ by the HTTP layer's own cost (fetch, JSON, auth, routing).",
);
