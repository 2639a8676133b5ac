import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open.js";
import { threadState } from "../../src/thread/status.js";
import type { Thread } from "../../src/thread/thread.js";
import { freshSchema, PG_URL, reportPgSkip } from "../store/pg-env.js";
import { bundleFixture, type CliExit, cliEnv, hintArgs, readShown, runCli, type Shown, startCli } from "./cli-crash.js";
import { readEffects } from "./fixtures/agents.js";
import { sleep } from "./harness.js";

/**
 * Answers race through the `twelve` binary exactly as people would run the
 * command a paused thread printed: one approval wins, every other copy is
 * refused with `already_answered` and runs nothing; and an old approve
 * command never approves the next request of the same thread.
 */

let fixture: string;
beforeAll(async () => {
  fixture = await bundleFixture();
});
afterAll(() => {
  if (fixture) rmSync(fixture, { force: true });
});

const describeOutput = (exits: CliExit[]) =>
  exits.map((e, i) => `#${i} exit ${e.code ?? e.signal}\n${e.stdout}${e.stderr}`).join("\n---\n");

function cliSuite(name: string, specFor: (dir: string) => string): void {
  describe(`twelve run answers on ${name}`, () => {
    const dirs: string[] = [];
    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });
    const setup = () => {
      const dir = mkdtempSync(join(tmpdir(), "twelve-cli-race-"));
      dirs.push(dir);
      const effects = join(dir, "effects");
      const options = { cwd: dir, env: cliEnv(effects) };
      return { dir, effects, options, spec: specFor(dir) };
    };
    const load = async (spec: string, id: string): Promise<Thread> => {
      const store = await openStore(spec);
      try {
        return await store.load(id);
      } finally {
        await store.close();
      }
    };
    const startPaused = async (
      spec: string,
      options: { cwd: string; env: NodeJS.ProcessEnv },
      deploys: number,
    ): Promise<Shown & { threadId: string }> => {
      const exit = await runCli(["run", fixture, `deploy:${deploys}`, "--store", spec, "--no-input"], options);
      expect(exit.code, exit.stdout + exit.stderr).toBe(3);
      const shown = readShown(exit.stdout);
      expect(shown.status).toBe("awaiting_approval");
      expect(shown.request?.kind).toBe("approval");
      expect(shown.hint?.request).toBe(shown.request?.id);
      if (!shown.threadId) throw new Error(`no thread id printed:\n${exit.stdout}`);
      return { ...shown, threadId: shown.threadId };
    };

    it("8 processes run the same printed approve command: one deploys, 7 are refused with already_answered", async () => {
      const { effects, options, spec } = setup();
      const paused = await startPaused(spec, options, 1);
      const approve = hintArgs(paused.hint as NonNullable<Shown["hint"]>, "--approve");
      const exits = await Promise.all(Array.from({ length: 8 }, () => runCli(approve, options)));
      const output = describeOutput(exits);

      const winners = exits.filter((e) => e.code === 0);
      const refused = exits.filter((e) => e.code === 2);
      expect(winners, output).toHaveLength(1);
      expect(refused, output).toHaveLength(7);
      for (const e of refused) {
        expect(e.stderr, output).toMatch(/\[already_answered\]/);
        // A refused answer runs nothing and prints no event.
        expect(readShown(e.stdout).eventLines, output).toEqual([]);
      }
      expect(winners[0]?.stdout, output).toMatch(/^done · thread /m);

      expect(readEffects(effects), output).toHaveLength(1);
      const thread = await load(spec, paused.threadId);
      expect(threadState(thread).status).toBe("done");
      expect(thread.events.filter((e) => e.type === "approval")).toHaveLength(1);
      expect(thread.events.filter((e) => e.type === "deploy_backend_result")).toHaveLength(1);
    });

    it("the first approve command, re-run while the thread waits on the second approval, is refused and approves nothing", async () => {
      const { effects, options, spec } = setup();
      const paused = await startPaused(spec, options, 2);
      expect(paused.request?.args).toEqual({ tag: "v1", environment: "production" });
      const firstApprove = hintArgs(paused.hint as NonNullable<Shown["hint"]>, "--approve");

      const first = await runCli(firstApprove, options);
      expect(first.code, first.stdout + first.stderr).toBe(3);
      const second = readShown(first.stdout);
      expect(second.request?.kind).toBe("approval");
      expect(second.request?.args).toEqual({ tag: "v2", environment: "production" });
      expect(second.request?.id).not.toBe(paused.request?.id);
      expect(readEffects(effects)).toHaveLength(1);

      const again = await runCli(firstApprove, options);
      expect(again.code, again.stdout + again.stderr).toBe(2);
      expect(again.stderr).toMatch(/\[already_answered\]/);
      expect(readShown(again.stdout).eventLines).toEqual([]);

      // Still waiting on the second approval, and the second deploy did not run.
      expect(readEffects(effects)).toHaveLength(1);
      const shown = await runCli(["run", fixture, "--thread", paused.threadId, "--store", spec, "--no-input"], options);
      expect(shown.code, shown.stdout + shown.stderr).toBe(3);
      expect(readShown(shown.stdout).request?.id).toBe(second.request?.id);
      const thread = await load(spec, paused.threadId);
      expect(threadState(thread).status).toBe("awaiting_approval");
      expect(thread.events.filter((e) => e.type === "approval")).toHaveLength(1);
      expect(thread.events.filter((e) => e.type === "deploy_backend_result")).toHaveLength(1);

      // The second approval's own command still works.
      const done = await runCli(hintArgs(second.hint as NonNullable<Shown["hint"]>, "--approve"), options);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(readEffects(effects)).toHaveLength(2);
    });

    it("Ctrl-C mid-handler exits 130 and gives the lease back: the thread resumes at once, the step once", async () => {
      const { effects, options, spec } = setup();
      // The default lease (10 s): if the interrupted CLI kept it, the check below would be refused.
      const env = { ...options.env };
      delete env.TWELVE_LEASE_TTL_MS;
      const paused = await startPaused(spec, { ...options, env }, 1);
      mkdirSync(effects, { recursive: true });
      const run = startCli(hintArgs(paused.hint as NonNullable<Shown["hint"]>, "--approve"), { ...options, env });
      for (
        let i = 0;
        i < 600 && !readdirSync(effects, { withFileTypes: false }).some((n) => String(n).endsWith(".begin"));
        i++
      ) {
        await sleep(10);
      }
      run.child.kill("SIGINT");
      const exit = await run.exit;
      expect(exit.code, exit.stdout + exit.stderr).toBe(130);
      expect(exit.stderr).toMatch(/interrupted/);
      const store = await openStore(spec);
      try {
        const lease = await store.acquireLease(paused.threadId, { owner: "checker", ttlMs: 1000 });
        await store.releaseLease(lease);
      } finally {
        await store.close();
      }
      const resumed = await runCli(["run", fixture, "--thread", paused.threadId, "--store", spec, "--no-input"], {
        ...options,
        env,
      });
      expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
      expect(readEffects(effects)).toHaveLength(1);
    });
  });
}

cliSuite("a SQLite file", (dir) => join(dir, "twelve.db"));

if (!reportPgSkip("twelve run answers on PostgreSQL")) {
  const schema = freshSchema("cli_race");
  const url = new URL(PG_URL as string);
  url.searchParams.set("schema", schema);
  afterAll(async () => {
    // Dropped whether the tests passed or not, so failed runs leave nothing behind.
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await admin.end();
    }
  });
  cliSuite("PostgreSQL", () => url.toString());
}
