import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { threadState } from "../../src/thread/status.js";

// Like test/cli: the built CLI, as users run it (`npm run build` first; .ci/run does).
const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/cli/main.js");
const calculator = join(root, "examples/calculator/agent.ts");

function twelve(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: "utf8",
    input: "",
    env: { ...process.env, NO_COLOR: "1", TWELVE_MODEL: "", TWELVE_STORE: "" },
    timeout: 30_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("twelve run keeps threads in the SQLite store", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const workspace = (script: unknown[]) => {
    const dir = mkdtempSync(join(tmpdir(), "twelve-run-store-"));
    dirs.push(dir);
    writeFileSync(join(dir, "script.json"), JSON.stringify(script));
    return dir;
  };

  it("pauses into .twelve/twelve.db and resumes from another process by id", async () => {
    const dir = workspace([
      { intent: "divide", a: 3, b: 4 },
      { intent: "done_for_now", message: "0.75" },
    ]);
    const first = twelve(["run", calculator, "divide 3 by 4", "--model", "script:script.json", "--no-input"], dir);
    expect(first.err).toBe("");
    expect(first.code).toBe(3);
    const id = /thread (thr_\w+)/.exec(first.out)?.[1] as string;
    // The pause names the request it waits on and the digest of the arguments shown.
    const [, request, digest] =
      /request (rq_[\w-]+): approve divide \{"a":3,"b":4\}\? \(digest (\S+)\)/.exec(first.out) ?? [];
    expect(request).toBeDefined();
    expect(digest).toBeDefined();

    const store = await openSqliteStore({ cwd: dir });
    try {
      expect((await store.list({ status: "awaiting_approval" })).threads.map((t) => t.id)).toEqual([id]);
      const paused = await store.load(id);
      expect(paused.events.at(-1)?.type).toBe("divide");
    } finally {
      await store.close();
    }
    // The script's remaining answer is consumed by the resumed run.
    writeFileSync(join(dir, "script.json"), JSON.stringify([{ intent: "done_for_now", message: "0.75" }]));
    const second = twelve(
      [
        "run",
        calculator,
        "--thread",
        id,
        "--request",
        request as string,
        "--digest",
        digest as string,
        "--approve",
        "--model",
        "script:script.json",
      ],
      dir,
    );
    expect(second.err).toBe("");
    expect(second.code).toBe(0);
    const again = await openSqliteStore({ cwd: dir });
    try {
      const done = await again.load(id);
      expect(threadState(done).status).toBe("done");
      expect(done.events.map((e) => e.type)).toEqual([
        "user_message",
        "divide",
        "approval",
        "divide_started",
        "divide_result",
        "done_for_now",
      ]);
      expect((await again.summary(id)).status).toBe("done");
    } finally {
      await again.close();
    }
  }, 60_000);

  it("imports a thread saved as .twelve/threads/<id>.json by an earlier version on first resume", async () => {
    const dir = workspace([{ intent: "done_for_now", message: "7" }]);
    mkdirSync(join(dir, ".twelve/threads"), { recursive: true });
    const legacy = {
      id: "thr_from_json_file",
      agent: "calculator",
      events: [{ id: "evt_1", type: "user_message", data: "add 3 and 4", timestamp: "2025-01-01T00:00:00.000Z" }],
    };
    writeFileSync(join(dir, ".twelve/threads/thr_from_json_file.json"), JSON.stringify(legacy));
    const r = twelve(["run", calculator, "--thread", "thr_from_json_file", "--model", "script:script.json"], dir);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const store = await openSqliteStore({ cwd: dir });
    try {
      const thread = await store.load("thr_from_json_file");
      expect(thread.events[0]?.at).toBe("2025-01-01T00:00:00.000Z");
      expect(threadState(thread).status).toBe("done");
    } finally {
      await store.close();
    }
    const missing = twelve(["run", calculator, "--thread", "thr_nowhere", "--model", "script:script.json"], dir);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no thread "thr_nowhere"/);
  }, 60_000);
});
