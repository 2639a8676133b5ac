import { join } from "node:path";
import type { ThreadStore } from "../../src/store/types.js";
import { threadState } from "../../src/thread/status.js";
import type { Thread } from "../../src/thread/thread.js";
import { readEffects, readJsonLines } from "./fixtures/agents.js";

export interface Snapshot {
  threads: Thread[];
  events: number;
  acks: number;
  deploys: number;
  calcRuns: number;
  open: number;
  /** Non-idempotent steps a crash left uncertain, decided by the "human": re-run, or reported as already run. */
  uncertainRerun: number;
  uncertainReported: number;
  /** Idempotent (calculator) steps re-run automatically after a crash: more than one recorded run of one step. */
  idempotentRecoveries: number;
}

/**
 * Checks every invariant the crash test promises, against a freshly opened
 * store and the files the worker wrote outside it. Returns what it saw;
 * throws an Error naming the first violation.
 */
export async function verify(store: ThreadStore, dir: string, kills: number): Promise<Snapshot> {
  const fail = (why: string): never => {
    throw new Error(`crash invariant violated: ${why}`);
  };
  const threads = new Map<string, Thread>();
  let cursor: string | undefined;
  do {
    const page = await store.list({ includeArchived: true, limit: 500, ...(cursor ? { cursor } : {}) });
    for (const s of page.threads) {
      // Every thread loads (load throws StoreCorruptError on any damage).
      const t = await store.load(s.id);
      if (t.version !== s.version) fail(`thread ${s.id}: summary version ${s.version} but ${t.version} events load`);
      const state = threadState(t);
      if (state.status !== s.status) fail(`thread ${s.id}: stored status ${s.status}, derived ${state.status}`);
      if ((state.pending?.kind ?? undefined) !== s.pendingKind) fail(`thread ${s.id}: stored pending kind differs`);
      threads.set(s.id, t);
    }
    cursor = page.nextCursor;
  } while (cursor);

  // No acknowledged event is missing, moved or duplicated.
  // A kill can tear the ack line being written; that append was then never acknowledged to anyone.
  const { records: acks, torn } = readJsonLines<{ thread: string; version: number; ids: string[] }>(
    join(dir, "acks.jsonl"),
  );
  if (torn > kills) fail(`${torn} torn ack lines after ${kills} kills`);
  for (const ack of acks) {
    const t = threads.get(ack.thread) ?? fail(`acknowledged thread ${ack.thread} is missing`);
    const version = ack.version;
    const ids = ack.ids;
    if (t.version < version) fail(`thread ${ack.thread}: acknowledged version ${version} but only ${t.version} stored`);
    ids.forEach((id, i) => {
      const at = version - ids.length + i;
      if (t.events[at]?.id !== id) fail(`thread ${ack.thread}: acknowledged event ${id} is not at position ${at}`);
    });
  }
  for (const t of threads.values()) {
    const ids = new Set(t.events.map((e) => e.id));
    if (ids.size !== t.events.length) fail(`thread ${t.id} holds a duplicated event`);
    const results = t.events.filter((e) => e.meta?.kind === "result").map((e) => e.meta?.stepId);
    if (new Set(results).size !== results.length) fail(`thread ${t.id} holds two results for one step`);
  }

  // Side effects, counted outside the store: the non-idempotent deploy never ran twice,
  // and never ran without its `_started` marker having been durable first.
  const effects = readEffects(join(dir, "effects"));
  const deploys = effects.filter((e) => e.intent === "deploy_backend");
  const seen = new Set<string>();
  for (const e of deploys) {
    const key = `${e.thread}/${e.step}`;
    if (seen.has(key))
      fail(
        `deploy ${key} ran twice (pids ${deploys.filter((d) => `${d.thread}/${d.step}` === key).map((d) => d.pid)})`,
      );
    seen.add(key);
    const t = threads.get(e.thread) ?? fail(`a deploy ran for thread ${e.thread}, which the store does not have`);
    if (!t.events.some((x) => x.meta?.kind === "started" && x.meta.stepId === e.step)) {
      fail(`deploy ${key} ran without a durable deploy_backend_started event`);
    }
  }
  for (const t of threads.values()) {
    for (const r of t.events.filter((e) => e.type === "deploy_backend_result")) {
      if (!seen.has(`${t.id}/${r.meta?.stepId}`)) fail(`thread ${t.id} records a deploy result but no deploy ran`);
    }
  }
  const all = [...threads.values()];
  let uncertainRerun = 0;
  let uncertainReported = 0;
  const calcRuns = new Map<string, number>();
  for (const e of effects)
    if (e.intent !== "deploy_backend")
      calcRuns.set(`${e.thread}/${e.step}`, (calcRuns.get(`${e.thread}/${e.step}`) ?? 0) + 1);
  const idempotentRecoveries = [...calcRuns.values()].reduce((n, runs) => n + runs - 1, 0);
  for (const t of all) {
    for (const e of t.events) {
      if (e.type === "approval" && e.meta?.startedId) uncertainRerun++;
      if (e.meta?.kind === "result" && (e.data as { reportedBy?: string } | null)?.reportedBy === "human")
        uncertainReported++;
    }
  }
  return {
    uncertainRerun,
    uncertainReported,
    idempotentRecoveries,
    threads: all,
    events: all.reduce((n, t) => n + t.version, 0),
    acks: acks.length,
    deploys: deploys.length,
    calcRuns: effects.length - deploys.length,
    open: all.filter((t) => !["done", "failed"].includes(threadState(t).status)).length,
  };
}
