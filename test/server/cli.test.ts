import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { defaultClock, makeEvent } from "../../src/thread/event.js";
import { createThread } from "../../src/thread/thread.js";
import { call, json, seen } from "./helpers.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/cli/main.js");
const agent = join(root, "test/server/fixtures/calculator.js");
const rules = join(root, "test/server/fixtures/workshop.rules.json");
const KEY = "walkthrough-key-0123456789abcdef";

interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const started: Served[] = [];
afterEach(() => {
  for (const s of started.splice(0)) if (s.child.exitCode === null) s.child.kill("SIGKILL");
});

/** Spawns the built `twelve serve` as users run it, and waits for its "listening on" line. */
async function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [bin, "serve", ...args], {
    env: { ...process.env, NO_COLOR: "1", TWELVE_MODEL: "", TWELVE_STORE: "", TWELVE_API_KEYS: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (d) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`twelve serve exited ${code}: ${err}`)));
  });
  const served = { child, url, stderr: () => err, exited };
  started.push(served);
  return served;
}

const auth = { authorization: `Bearer ${KEY}` };

describe("twelve serve (the built CLI)", () => {
  it("serves agent modules without a config file; SIGTERM drains and exits 0; a restarted server answers the paused thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twelve-serve-"));
    const store = join(dir, "twelve.db");
    const args = [agent, "--model", `rules:${rules}`, "--port", "0", "--store", store];
    const first = await serve(args, { TWELVE_API_KEYS: `ops:${KEY}` });
    const launched = await call(
      `${first.url}/v1/agents/calculator/threads?wait=5`,
      json({ message: "divide 3 by 4" }, auth),
    );
    const thread = (await launched.json()) as { id: string; request: { id: string; argsDigest: string } };
    expect(launched.status).toBe(201);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.stderr()).toContain('"msg":"stopped"');

    // Another process, the same store: the request id alone resumes the thread.
    const second = await serve(args, { TWELVE_API_KEYS: `ops:${KEY}` });
    const answered = await call(
      `${second.url}/v1/requests/${thread.request.id}?wait=5`,
      json({ decision: "approve", digest: thread.request.argsDigest }, auth),
    );
    expect(answered.status).toBe(200);
    expect(await answered.json()).toMatchObject({ id: thread.id, status: "done", output: { message: "0.75" } });
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);
  });

  it("reads twelve.config.mjs (--config): agents by path with their model, the store, API keys", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twelve-serve-"));
    writeFileSync(
      join(dir, "twelve.config.mjs"),
      `export default {
  agents: [{ agent: ${JSON.stringify(agent)}, model: ${JSON.stringify(`rules:${rules}`)} }],
  store: "config.db",
  secrets: { apiKeys: [{ name: "from-config", key: ${JSON.stringify(KEY)} }] },
};
`,
    );
    const s = await serve(["--config", join(dir, "twelve.config.mjs"), "--port", "0"]);
    expect((await call(`${s.url}/v1/agents`)).status).toBe(401);
    const r = await call(`${s.url}/v1/agents/calculator/threads?wait=5`, json({ message: "divide 3 by 4" }, auth));
    expect(r.status).toBe(201);
    const t = (await r.json()) as { events: { meta?: { by?: unknown } }[] };
    expect(t.events[0]?.meta?.by).toEqual({ id: "from-config", via: "api" });
    expect(existsSync(join(dir, "config.db"))).toBe(true);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  });

  it("at start-up picks up a thread a dead process left running", async () => {
    const dir = mkdtempSync(join(tmpdir(), "twelve-serve-"));
    const path = join(dir, "twelve.db");
    const store = await openSqliteStore({ path });
    // What a process killed right after creating a thread leaves: `running`, nobody holding it.
    const orphan = await store.create(
      createThread("calculator", [makeEvent(defaultClock, "user_message", "add these")]),
    );
    await store.close();
    const s = await serve([agent, "--model", `rules:${rules}`, "--port", "0", "--store", path]);
    let status = "";
    for (let i = 0; i < 200 && status !== "done"; i++) {
      const r = await call(`${s.url}/v1/threads/${orphan.id}`);
      status = ((await r.json()) as { status: string }).status;
      if (status !== "done") await new Promise((res) => setTimeout(res, 25));
    }
    expect(status).toBe("done");
    expect(s.stderr()).toContain("NO API KEY IS CONFIGURED");
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  });

  it("refuses to start with a one-line error: a bad config, no agent, a bad port", () => {
    const dir = mkdtempSync(join(tmpdir(), "twelve-serve-"));
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [bin, "serve", ...args], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: "1", TWELVE_MODEL: "", TWELVE_STORE: "", ...env },
        encoding: "utf8",
      });
    const badKey = run([agent, "--model", `rules:${rules}`], { TWELVE_API_KEYS: "ci:short" });
    expect(badKey.status).toBe(2);
    expect(badKey.stderr).toBe(
      "twelve: TWELVE_API_KEYS (0.key): an API key needs at least 16 characters [config_invalid]\n",
    );
    const none = run([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("[invalid_flag]");
    const port = run([agent, "--model", `rules:${rules}`, "--port", "http"]);
    expect(port.stderr).toBe("twelve: --port http: expected 0-65535 [invalid_flag]\n");
    const missing = run([agent, "--config", "nope.ts"]);
    expect(missing.stderr).toMatch(/\[config_not_found\]\n$/);
  });
});

const has = (cmd: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

/** The ```sh blocks between the walkthrough markers, each with the ```text block after it (its expected output). */
function walkthrough(): { script: string; expected: string | undefined }[] {
  const doc = readFileSync(join(root, "docs/server.md"), "utf8");
  const section = doc.split("<!-- walkthrough:start -->")[1]?.split("<!-- walkthrough:end -->")[0] ?? "";
  const blocks = [...section.matchAll(/```(sh|text)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] ?? "" }));
  const out: { script: string; expected: string | undefined }[] = [];
  for (const [i, b] of blocks.entries()) {
    if (b.lang !== "sh") continue;
    const next = blocks[i + 1];
    out.push({ script: b.body, expected: next?.lang === "text" ? next.body.trim() : undefined });
  }
  return out;
}

const walkthroughTools = has("curl") && has("jq");
if (!walkthroughTools && process.env.CI) {
  throw new Error(
    "CI is set but curl or jq is missing: docs/server.md's walkthrough cannot run (.ci/run installs them)",
  );
}

describe("docs/server.md: the curl walkthrough", () => {
  it.skipIf(!walkthroughTools)(
    "runs with real curl against a started server and prints what the page says",
    async () => {
      const blocks = walkthrough();
      expect(blocks.length).toBeGreaterThanOrEqual(3);
      const dir = mkdtempSync(join(tmpdir(), "twelve-walkthrough-"));
      const s = await serve([agent, "--model", `rules:${rules}`, "--port", "0", "--store", join(dir, "t.db")], {
        TWELVE_API_KEYS: `me:${KEY}`,
      });
      // One shell runs every block in order (later blocks use the variables earlier ones set); markers split the output.
      const script = blocks.map((b, i) => `echo "@@block ${i}"\n${b.script}`).join("\n");
      const result = spawnSync("bash", ["-euo", "pipefail", "-c", script], {
        cwd: dir,
        env: { ...process.env, TWELVE_URL: s.url, TWELVE_KEY: KEY },
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      const outputs = result.stdout.split(/^@@block \d+\n/m).slice(1);
      expect(outputs).toHaveLength(blocks.length);
      for (const [i, b] of blocks.entries()) {
        if (b.expected !== undefined) expect(outputs[i]?.trim(), `block ${i}:\n${b.script}`).toBe(b.expected);
      }
      s.child.kill("SIGTERM");
      expect(await s.exited).toBe(0);
    },
  );
});

afterEach(() => {
  expect(seen.filter((x) => x.status >= 500)).toEqual([]);
});
