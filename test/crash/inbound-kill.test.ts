import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recoverInbound } from "../../src/runtime/inbound.js";
import { openStore } from "../../src/store/open.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { freshSchema, PG_URL, reportPgSkip } from "../store/pg-env.js";
import { bundle, prng, startWorker } from "./harness.js";

/**
 * Record, acknowledge, process: a worker acknowledges an inbound payload and
 * is SIGKILLed while processing it. The recovery sweep must then process it
 * exactly once, with the payload as received, and nothing acknowledged may
 * be lost or processed twice (deliveries the worker finished, and a
 * redelivery it rightly ignored, included).
 */

const seed = Number(process.env.TWELVE_CRASH_SEED ?? Date.now() % 1_000_000);
const random = prng(seed);
const context = `(seed ${seed}; rerun with TWELVE_CRASH_SEED=${seed})`;

let worker: string;
let dir: string;
beforeAll(async () => {
  worker = await bundle("inbound-worker.ts", "inbound-worker");
  dir = mkdtempSync(join(tmpdir(), "twelve-inbound-kill-"));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (worker) rmSync(worker, { force: true });
});

function randomPayload(round: number, i: number): unknown {
  const words = ["deploy", "ünïcode ✓", "🚀", 'quote"s', "line\nbreak", "", "\u0000nul"];
  const pick = () => words[Math.floor(random() * words.length)];
  return {
    round,
    i,
    n: Math.floor(random() * 1e9) / 1e3,
    text: Array.from({ length: 1 + Math.floor(random() * 4) }, pick).join(" "),
    nested: { list: Array.from({ length: Math.floor(random() * 4) }, () => random() < 0.5), none: null },
  };
}

/** Resolves when the child's stdout has a line; rejects if it exits first or the time runs out. */
function waitForLine(started: ReturnType<typeof startWorker>, line: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no "${line}" within ${timeoutMs} ms; stdout: ${out}`)), timeoutMs);
    started.child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.split("\n").includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    started.exit.then((e) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${e.code ?? e.signal}) before "${line}": ${e.stderr}`));
    });
  });
}

async function killRound(spec: string, round: number): Promise<void> {
  const source = `slack-r${round}-${Math.floor(random() * 1e9)}`;
  const effects = join(dir, `effects-${source}.jsonl`);
  const count = 1 + Math.floor(random() * 4);
  const deliveries: { id: string; payload: unknown; block?: boolean }[] = Array.from({ length: count }, (_, i) => ({
    id: `Ev${round}_${i}`,
    payload: randomPayload(round, i),
  }));
  // A redelivery of the first one (same id) before the last: acknowledged as a duplicate, not processed again.
  if (count > 1) deliveries.splice(count - 1, 0, { ...(deliveries[0] as { id: string; payload: unknown }) });
  (deliveries.at(-1) as { block?: boolean }).block = true;
  const last = deliveries.at(-1) as { id: string; payload: unknown };

  const started = startWorker(worker, [spec, source, JSON.stringify(deliveries), effects]);
  await waitForLine(started, `acked ${last.id} new`);
  started.child.kill("SIGKILL");
  const exit = await started.exit;
  expect(exit.signal, `${context} ${exit.stderr}`).toBe("SIGKILL");
  expect(exit.stdout).not.toContain("finished");
  if (count > 1) expect(exit.stdout).toContain(`acked ${deliveries[0]?.id} duplicate`);

  const store = await openStore(spec);
  try {
    const processed: { id: string; payload: unknown; by: string }[] = existsSync(effects)
      ? readFileSync(effects, "utf8")
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [];
    const recovered = await recoverInbound(
      store,
      async (payload, record) => {
        processed.push({ id: record.id, payload, by: "recovery" });
      },
      { source },
    );
    expect(recovered, context).toEqual({ processed: 1, failed: 0 });
    // Every acknowledged delivery processed exactly once, with its payload as sent.
    const unique = new Map(deliveries.map((d) => [d.id, d.payload]));
    expect(processed.map((p) => p.id).sort(), context).toEqual([...unique.keys()].sort());
    for (const p of processed) expect(p.payload, `${context} ${p.id}`).toEqual(unique.get(p.id));
    expect(processed.find((p) => p.by === "recovery")?.id, context).toBe(last.id);
    // Nothing is left, and a second sweep finds nothing to do.
    expect(await store.pendingInbound({ source }), context).toEqual([]);
    expect(await recoverInbound(store, async () => expect.fail("processed twice"), { source })).toEqual({
      processed: 0,
      failed: 0,
    });
  } finally {
    await store.close();
  }
}

describe("inbound records survive a SIGKILL between acknowledgement and processing", () => {
  it("SQLite: 10 kills, each acknowledged payload processed exactly once", async () => {
    const spec = join(dir, "twelve.db");
    for (let round = 0; round < 10; round++) await killRound(spec, round);
  });
});

if (!reportPgSkip("inbound records survive a SIGKILL: PostgreSQL")) {
  describe("inbound records survive a SIGKILL: PostgreSQL", () => {
    const schema = freshSchema("inbound_kill");
    const url = new URL(PG_URL as string);
    url.searchParams.set("schema", schema);
    afterAll(async () => {
      const store = await openPostgresStore({ url: PG_URL as string, schema });
      await store.dropSchema();
      await store.close();
    });
    it("PostgreSQL: 3 kills, each acknowledged payload processed exactly once", async () => {
      for (let round = 0; round < 3; round++) await killRound(url.toString(), 100 + round);
    });
  });
}
