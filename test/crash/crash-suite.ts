import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { openStore } from "../../src/store/open.js";
import { threadState } from "../../src/thread/status.js";
import { bundle, prng, sleep, startWorker } from "./harness.js";
import { verify } from "./verify.js";

export interface CrashSuiteOptions {
  name: string;
  /** The store spec the worker and the checker open, given a scratch directory. */
  spec: (dir: string) => string;
  kills: number;
  /** Longest random wait after the worker is ready before SIGKILL. */
  maxDelayMs: number;
  /**
   * Waits until the killed worker can change nothing more. A database server
   * finishes a statement it already received even when the client dies, so a
   * write can land just after the kill (it was never acknowledged, so that is
   * allowed); checking before then would compare two different moments.
   */
  quiesce?: () => Promise<void>;
}

/**
 * Starts the worker, lets it run for a random moment, SIGKILLs it, and checks
 * every invariant against the store and the outside effects directory; `kills`
 * times. Then one last worker finishes every open thread and the final state
 * is checked: every thread done, every deploy ran exactly once.
 */
export function crashSuite(options: CrashSuiteOptions): void {
  it(`survives ${options.kills} SIGKILLs at random moments on ${options.name}: nothing acknowledged is lost, no deploy runs twice`, async () => {
    const seed = Number(process.env.TWELVE_CRASH_SEED ?? Date.now() % 1_000_000);
    const random = prng(seed);
    const dir = mkdtempSync(join(tmpdir(), `twelve-crash-${options.name}-`));
    const spec = options.spec(dir);
    const worker = await bundle("worker.ts", "crash-worker");
    const context = `(seed ${seed}; rerun with TWELVE_CRASH_SEED=${seed})`;
    let killed = 0;
    let midWork = 0;
    try {
      for (let life = 0; life < options.kills; life++) {
        const w = startWorker(worker, [spec, dir, "work", String(life)]);
        await w.ready;
        await sleep(random() * options.maxDelayMs);
        const alive = w.child.exitCode === null && w.child.signalCode === null;
        w.child.kill("SIGKILL");
        const exit = await w.exit;
        if (!alive || exit.signal !== "SIGKILL") {
          throw new Error(`worker life ${life} ended on its own (code ${exit.code}) ${context}:\n${exit.stderr}`);
        }
        killed++;
        await options.quiesce?.();
        const store = await openStore(spec);
        try {
          const snap = await verify(store, dir, killed);
          if (snap.open > 0) midWork++;
        } catch (error) {
          throw new Error(`after kill ${life + 1} ${context}: ${(error as Error).message}`);
        } finally {
          await store.close();
        }
      }
      const last = startWorker(worker, [spec, dir, "finish", String(options.kills)]);
      const exit = await last.exit;
      expect(exit.code, `finishing worker failed ${context}: ${exit.stderr}`).toBe(0);

      const store = await openStore(spec);
      try {
        const snap = await verify(store, dir, killed);
        expect(killed).toBe(options.kills);
        // The kills must land while work is in flight, or the test proves nothing.
        expect(midWork).toBeGreaterThan(options.kills / 2);
        expect(snap.open).toBe(0);
        const deployThreads = snap.threads.filter((t) => t.agent === "deploybot");
        const calcThreads = snap.threads.filter((t) => t.agent === "calculator");
        // Both agents must have been exercised; a smaller run (sized down by env) makes fewer threads.
        const minThreads = Math.max(1, Math.min(5, Math.floor(options.kills / 3)));
        expect(deployThreads.length).toBeGreaterThanOrEqual(minThreads);
        expect(calcThreads.length).toBeGreaterThanOrEqual(minThreads);
        for (const t of snap.threads) expect(threadState(t).status, `thread ${t.id} ${context}`).toBe("done");
        // Every deploy thread deployed exactly once: its result (run or reported by the human) matches one effect.
        for (const t of deployThreads) {
          expect(
            t.events.filter((e) => e.type === "deploy_backend_result"),
            `thread ${t.id} ${context}`,
          ).toHaveLength(1);
        }
        expect(snap.deploys).toBe(deployThreads.length);
        process.stdout.write(
          `[crash ${options.name}] ${killed} kills ${context}: ${snap.threads.length} threads, ${snap.events} events, ${snap.acks} acknowledged appends, ${snap.deploys} deploys (each once), ${snap.calcRuns} calculator runs; recoveries: ${snap.idempotentRecoveries} idempotent re-runs, ${snap.uncertainRerun} uncertain deploys re-run and ${snap.uncertainReported} reported as done by the human\n`,
        );
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(worker, { force: true });
    }
  }, 240_000);
}
