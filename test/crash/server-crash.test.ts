import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { newSecret, startReceiver } from "../server/webhooks-receiver.js";
import { bundleFixture } from "./cli-crash.js";
import { readEffects } from "./fixtures/agents.js";
import { sleep } from "./harness.js";

/**
 * `twelve serve` SIGKILLed mid-handler and mid-outbox, then restarted, on a
 * SQLite file, with the thread-keyed rules model (a restarted server answers
 * the same thread the same way) and a webhook receiver verifying every
 * delivery with standardwebhooks. Each thread shows its `uncertain` request
 * after the kill; the human decides from the recorded side effects (mark
 * done if it shows, run again if not); every thread finishes with exactly
 * one side effect per step, and every webhook message arrives at least
 * once, always with the same id and body.
 *
 * Sized by TWELVE_SERVER_CRASH_KILLS (default 2 mid-handler kills, plus one
 * mid-outbox kill). Each restart waits out the dead process's thread lease
 * (30 s): `twelve serve` has no lease setting of its own yet.
 */

const KILLS = Number(process.env.TWELVE_SERVER_CRASH_KILLS ?? 2);
const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/cli/main.js");

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<void>;
  stderr: () => string;
}

const RULES = {
  rules: [
    { when: { lastType: "user_message" }, answer: { intent: "deploy_backend", tag: "v1", environment: "production" } },
    { when: { lastType: "deploy_backend_result" }, answer: { intent: "done_for_now", message: "deployed" } },
    { answer: { intent: "done_for_now", message: "stopped" } },
  ],
};

describe("twelve serve: SIGKILL mid-handler and mid-outbox, then restart", () => {
  let dir: string;
  let agentModule: string;
  let rulesFile: string;
  const live = new Set<ChildProcess>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "twelve-server-crash-"));
    agentModule = await bundleFixture();
    rulesFile = join(dir, "deploy.rules.json");
    writeFileSync(rulesFile, JSON.stringify(RULES));
  });
  afterAll(() => {
    for (const c of live) c.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${KILLS} kills mid-handler and one mid-outbox: every thread finishes, 0 duplicate effects, every webhook at least once with a stable id`, async () => {
    const store = join(dir, "twelve.db");
    const effects = join(dir, "effects");
    const secret = newSecret();
    const receiver = await startReceiver(secret);
    let holdMs = 0;

    const serve = async (): Promise<Served> => {
      const child = spawn(
        process.execPath,
        [bin, "serve", agentModule, "--model", `rules:${rulesFile}`, "--port", "0", "--store", store],
        {
          env: {
            ...process.env,
            NO_COLOR: "1",
            TWELVE_MODEL: "",
            TWELVE_STORE: "",
            TWELVE_API_KEYS: "",
            TWELVE_FIXTURE_EFFECTS: effects,
            TWELVE_WEBHOOKS: receiver.url,
            TWELVE_WEBHOOK_SECRETS: secret,
            // A killed server's leases expire soon, so the next one picks its threads up without waiting 30 s.
            TWELVE_LEASE_TTL_MS: "3000",
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      live.add(child);
      let out = "";
      let err = "";
      child.stderr?.on("data", (d) => {
        err += d.toString();
      });
      const exited = new Promise<void>((resolve) =>
        child.on("exit", () => {
          live.delete(child);
          resolve();
        }),
      );
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout?.on("data", (d) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        void exited.then(() => reject(new Error(`twelve serve exited: ${err}`)));
      });
      return { child, url, exited, stderr: () => err };
    };
    const kill = async (s: Served) => {
      s.child.kill("SIGKILL");
      await s.exited;
    };
    const post = (url: string, body: unknown) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const thread = async (s: Served, id: string) =>
      (await (await fetch(`${s.url}/v1/threads/${id}`)).json()) as {
        status: string;
        request: { id: string; kind: string; argsDigest?: string; eventId: string; stepId: string } | null;
      };
    const waitFor = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 60_000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const v = await probe();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
      }
    };
    const begun = (threadId: string) =>
      readdirSync(effects, { withFileTypes: true }).some(
        (f) => f.name.startsWith(`${threadId}.`) && f.name.endsWith(".begin"),
      );
    const effectsOf = (threadId: string) => readEffects(effects).filter((e) => e.thread === threadId);

    let server = await serve();
    const threads: string[] = [];
    receiver.statuses.length = 0;

    for (let k = 0; k < KILLS; k++) {
      // Launch; it pauses on the deploy's approval.
      const launched = await post(`${server.url}/v1/agents/deploybot/threads?wait=10`, { message: `deploy ${k}` });
      const view = (await launched.json()) as {
        id: string;
        status: string;
        request: { id: string; argsDigest: string };
      };
      expect(view.status).toBe("awaiting_approval");
      threads.push(view.id);
      // Approve without waiting; kill as soon as the handler began (even k) or once its effect is recorded (odd k).
      const approved = await post(`${server.url}/v1/requests/${view.request.id}`, {
        decision: "approve",
        digest: view.request.argsDigest,
      });
      expect(approved.status).toBeLessThan(300);
      await waitFor("the handler to begin", () => (begunSafe(view.id) ? true : undefined), 20_000);
      if (k % 2 === 1) await waitFor("the effect", () => (effectsOf(view.id).length > 0 ? true : undefined), 20_000);
      await kill(server);

      server = await serve();
      // The step may or may not have run: shown as uncertain, never hidden.
      const shown = await thread(server, view.id);
      expect(shown.status).toBe("awaiting_human");
      expect(shown.request?.kind).toBe("uncertain");
      const request = shown.request as { id: string; argsDigest?: string };
      const ran = effectsOf(view.id).length > 0;
      const decision = ran ? { decision: "mark_done" } : { decision: "run_again", digest: request.argsDigest };
      // The dead process's lease must run out first: the answer is refused (409, retryable) until then.
      await waitFor(
        "the decision to be taken",
        async () => {
          const r = await post(`${server.url}/v1/requests/${request.id}`, decision);
          if (r.status < 300) return true;
          const body = (await r.json()) as { error: { code: string } };
          if (r.status === 409 && ["lease_held", "busy"].includes(body.error.code)) {
            await sleep(500);
            return undefined;
          }
          throw new Error(`the decision was refused: ${r.status} ${JSON.stringify(body)}`);
        },
        90_000,
      );
      await waitFor("the thread to finish", async () =>
        (await thread(server, view.id)).status === "done" ? true : undefined,
      );
    }

    // Mid-outbox: the receiver holds its answers; the server is killed while a delivery is in flight.
    holdMs = 3000;
    const gate = startHold(receiver, () => holdMs);
    const lastLaunch = await post(`${server.url}/v1/agents/deploybot/threads?wait=10`, { message: "deploy last" });
    const last = (await lastLaunch.json()) as { id: string; request: { id: string; argsDigest: string } };
    threads.push(last.id);
    await waitFor("a delivery in flight", () => (gate.inFlight() > 0 ? true : undefined), 20_000);
    await kill(server);
    holdMs = 0;
    gate.release();
    server = await serve();
    const answered = await post(`${server.url}/v1/requests/${last.request.id}?wait=20`, {
      decision: "approve",
      digest: last.request.argsDigest,
    });
    expect(answered.status).toBe(200);
    await waitFor("the last thread to finish", async () =>
      (await thread(server, last.id)).status === "done" ? true : undefined,
    );

    // Every message in the outbox is delivered, after the claim of the killed attempt ran out.
    const check = await openSqliteStore({ path: store });
    try {
      await waitFor(
        "every webhook to be delivered",
        async () => {
          const rows = await check.listOutbox({ limit: 1000 });
          return rows.length > 0 && rows.every((r) => r.state === "delivered") ? rows : undefined;
        },
        90_000,
      );
      const rows = await check.listOutbox({ limit: 1000 });
      const ids = new Set(rows.map((r) => r.messageId));
      const delivered = receiver.deliveries;
      // Verified, each of them; one body per id, however often it came.
      expect(delivered.every((d) => d.verified.ok)).toBe(true);
      for (const id of ids)
        expect(
          delivered.some((d) => d.id === id && d.status < 300),
          id,
        ).toBe(true);
      const bodies = new Map<string, string>();
      for (const d of delivered) {
        expect(bodies.get(d.id) ?? d.body, d.id).toBe(d.body);
        bodies.set(d.id, d.body);
      }
      // The killed delivery came again with the same id.
      expect(delivered.length).toBeGreaterThan(ids.size);
      for (const threadId of threads) {
        const types = rows.filter((r) => r.threadId === threadId).map((r) => r.type);
        expect(types, threadId).toContain("request.created");
        expect(types, threadId).toContain("thread.done");
        expect(types.filter((t) => t === "request.answered").length, threadId).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await check.close();
    }
    // Exactly one side effect per thread: none lost, none repeated.
    for (const threadId of threads) expect(effectsOf(threadId), threadId).toHaveLength(1);
    await kill(server);
    await receiver.close();

    function begunSafe(threadId: string) {
      try {
        return begun(threadId);
      } catch {
        return false;
      }
    }
  });
});

/** Makes the receiver hold each answer while `holdMs()` > 0 (its requests stay in flight), counting them. */
function startHold(receiver: Awaited<ReturnType<typeof startReceiver>>, holdMs: () => number) {
  let count = 0;
  const waiters: (() => void)[] = [];
  receiver.setDelay(async () => {
    const ms = holdMs();
    if (ms <= 0) return;
    count++;
    await new Promise<void>((r) => {
      waiters.push(r);
      setTimeout(r, ms);
    });
  });
  return {
    inFlight: () => count,
    release: () => {
      for (const w of waiters.splice(0)) w();
    },
  };
}
