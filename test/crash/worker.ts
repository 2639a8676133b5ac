/**
 * The process the crash test kills with SIGKILL. It runs calculator and
 * deploybot threads on a store, acting as the human too (approving deploys,
 * deciding uncertain executions from the effects directory), and logs one
 * ack line per append the store acknowledged.
 *
 * usage: node worker.mjs <store spec> <dir> <work|finish> <life>
 */
import { join } from "node:path";
import type { Agent } from "../../src/agent/agent.js";
import { approve, markDone, runAgain } from "../../src/agent/events.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { openStore } from "../../src/store/open.js";
import type { ThreadStore, ThreadSummary } from "../../src/store/types.js";
import type { By } from "../../src/thread/event.js";
import { requestFromPending } from "../../src/thread/request.js";
import { appendLine, calculatorAgent, deploybotAgent, planningModel, readEffects } from "./fixtures/agents.js";

const [spec, dir, mode, life] = process.argv.slice(2) as [string, string, "work" | "finish", string];
const effects = join(dir, "effects");
const acks = join(dir, "acks.jsonl");
const agents: Record<string, Agent> = { calculator: calculatorAgent(effects), deploybot: deploybotAgent(effects) };
const model = planningModel();
// A restarted worker keeps its identity and reclaims its own leases at once; every 10th
// life a new identity must wait for the killed one's leases to expire (400 ms).
const leaseOptions = { owner: `worker-${Math.floor(Number(life) / 10)}`, leaseTtlMs: 400, answerWaitMs: 3000 };
const by: By = { id: "crash-test", via: "system" };
const runtimeOn = (store: ThreadStore) =>
  createRuntime({ store, agents: Object.values(agents), model, ...leaseOptions });

/** Writes an ack line after every append the store confirmed (so the test knows what must never be lost). */
function acking(store: ThreadStore): ThreadStore {
  // No fsync needed for acks: a SIGKILL loses no data the OS already has, and the store is the thing under test.
  const ack = (t: string, v: number, ids: string[]) => appendLine(acks, { thread: t, version: v, ids });
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === "append") {
        return async (...args: Parameters<ThreadStore["append"]>) => {
          const result = await target.append(...args);
          if (!result.duplicate)
            ack(
              args[0],
              result.version,
              result.appended.map((e) => e.id),
            );
          return result;
        };
      }
      if (prop === "create") {
        return async (...args: Parameters<ThreadStore["create"]>) => {
          const thread = await target.create(...args);
          ack(
            thread.id,
            thread.version,
            thread.events.map((e) => e.id),
          );
          return thread;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function advance(store: ThreadStore, s: ThreadSummary): Promise<void> {
  const rt = runtimeOn(store);
  const pending = s.pending;
  if (s.status === "running") {
    await rt.continue(s.id);
  } else if (pending?.kind === "approval") {
    const request = requestFromPending(s.id, pending);
    await rt.answer(approve(request, { by, idempotencyKey: `approve:${request.id}` }));
  } else if (pending?.kind === "uncertain") {
    // The human checks the outside world (the effects file) before deciding: never a blind re-run.
    const request = requestFromPending(s.id, pending);
    const ran = readEffects(effects).some((e) => e.thread === s.id && e.step === pending.stepId);
    await rt.answer(
      ran
        ? markDone(request, { deployed: pending.arguments.tag, reportedBy: "human" }, { by })
        : runAgain(request, { by }),
    );
  } else {
    throw new Error(
      `thread ${s.id} is ${s.status} with ${pending?.kind ?? "nothing"} pending; the fixtures never get there`,
    );
  }
}

async function openThreads(store: ThreadStore): Promise<ThreadSummary[]> {
  const out: ThreadSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({
      status: ["running", "awaiting_approval", "awaiting_human"],
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    out.push(...page.threads);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

async function pool<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function main(): Promise<void> {
  const store = acking(await openStore(spec));
  process.stdout.write("ready\n");
  // Recover: finish whatever a killed predecessor left, until nothing is open.
  for (let open = await openThreads(store); open.length > 0; open = await openThreads(store)) {
    await pool(open, 4, (s) => advance(store, s));
  }
  if (mode === "finish") {
    await store.close();
    process.stdout.write("finished\n");
    return;
  }
  // New work until killed.
  for (let n = 0; ; n++) {
    const batch = Array.from({ length: 4 }, (_, i) =>
      (i + n) % 2 === 0 ? `calc:${3 + ((n + i) % 4)}` : `deploy:v1.${n}.${i}`,
    );
    await pool(batch, 4, async (message) => {
      const agent = message.startsWith("calc:") ? "calculator" : "deploybot";
      const { thread } = await runtimeOn(store).start(agent, message);
      const summary = await store.summary(thread.id);
      if (summary.status !== "done") await advance(store, summary);
    });
  }
}

main().catch((error) => {
  process.stderr.write(
    `crash worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
