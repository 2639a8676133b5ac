// The deploybot through the built `twelve` binary, as a user runs it:
// configuration from DEPLOYBOT_* variables, scripted model answers from
// script.json, approvals from flags or standard input.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { createDemoRepo } from "./demo-repo.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "dist/cli/main.js");
const agentModule = join(root, "examples/deploybot/agent.ts");
const scriptFile = join(root, "examples/deploybot/script.json");
const script = `script:${scriptFile}`;
const message = "deploy the latest release to production";

let repo: string;
beforeAll(async () => {
  repo = await createDemoRepo(mkdtempSync(join(tmpdir(), "twelve-deploybot-cli-repo-")));
});

function deploybot(args: string[], options: { input?: string; env?: Record<string, string>; cwd?: string } = {}) {
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), "twelve-deploybot-cli-"));
  const record = (part: string) => `echo "$TAG $ENVIRONMENT" >> "${cwd}/deployed-${part}.txt" && echo "${part} ok"`;
  const result = spawnSync(process.execPath, [bin, "run", agentModule, ...args], {
    cwd,
    input: options.input ?? "",
    encoding: "utf8",
    timeout: 20_000,
    env: {
      ...process.env,
      NO_COLOR: "1",
      TWELVE_MODEL: "",
      DEPLOYBOT_REPO: repo,
      DEPLOYBOT_DEPLOY_BACKEND: record("backend"),
      DEPLOYBOT_DEPLOY_FRONTEND: record("frontend"),
      ...options.env,
    },
  });
  const lines = (name: string) =>
    existsSync(join(cwd, name)) ? readFileSync(join(cwd, name), "utf8").trim().split("\n") : [];
  return { code: result.status, out: result.stdout, err: result.stderr, lines, cwd };
}

/** The event types the CLI printed, in order (it prints every event but the `_started` markers). */
const printed = (out: string) => out.split("\n").flatMap((line) => /^[→•✓] ([a-z_]+)/u.exec(line)?.[1] ?? []);
const story = [
  "user_message",
  "list_git_tags",
  "list_git_tags_result",
  "deploy_frontend",
  "approval",
  "deploy_backend",
  "approval",
  "deploy_backend_result",
  "deploy_frontend",
  "approval",
  "deploy_frontend_result",
  "done_for_now",
];

describe("twelve run examples/deploybot/agent.ts", () => {
  it("replays the essay's story with script.json and approvals from flags", () => {
    // The first run pauses on the frontend deploy and prints the request it waits on.
    const paused = deploybot([message, "--model", script, "--no-input"]);
    expect(paused.err).toBe("");
    expect(paused.code).toBe(3);
    const requestId = /request (rq_[\w-]+): approve deploy_frontend/.exec(paused.out)?.[1] as string;
    expect(requestId).toBeDefined();
    expect(paused.lines("deployed-frontend.txt")).toEqual([]);
    // A later process rejects that request by id (a decision flag names the request it answers) and
    // --yes approves the requests it raises; the model's remaining answers drive the rest of the story.
    const rest = JSON.parse(readFileSync(scriptFile, "utf8")).slice(1);
    writeFileSync(join(paused.cwd, "rest.json"), JSON.stringify(rest));
    const r = deploybot(
      ["--request", requestId, "--reject", "deploy the backend first", "--yes", "--model", "script:rest.json"],
      { cwd: paused.cwd },
    );
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain('• approval: {"approved":false,"feedback":"deploy the backend first"}');
    expect(r.out).toContain(
      '✓ deploy_backend_result: {"status":"success","tag":"v1.2.3","environment":"production","output":"backend ok"}',
    );
    expect([...printed(paused.out), ...printed(r.out)]).toEqual(story);
    expect(r.lines("deployed-backend.txt")).toEqual(["v1.2.3 production"]);
    expect(r.lines("deployed-frontend.txt")).toEqual(["v1.2.3 production"]);
  });

  it("takes the same decisions line by line from standard input", () => {
    const r = deploybot([message, "--model", script, "--stdin"], { input: "n deploy the backend first\ny\ny\n" });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(printed(r.out)).toEqual(story);
    expect(r.out).toContain('• approval: {"approved":false,"feedback":"deploy the backend first"}');
    expect(r.lines("deployed-backend.txt")).toEqual(["v1.2.3 production"]);
  });

  it("pauses before deploying anything when nobody answers (exit 3)", () => {
    const r = deploybot([message, "--model", script, "--no-input"]);
    expect(r.code).toBe(3);
    expect(r.out).toContain("paused: awaiting_approval");
    expect(r.lines("deployed-frontend.txt")).toEqual([]);
  });

  it("fails with a clear message and exit code 2 when the configuration is missing", () => {
    const r = deploybot([message, "--model", script], { env: { DEPLOYBOT_REPO: "", DEPLOYBOT_DEPLOY_FRONTEND: "" } });
    expect(r.code).toBe(2);
    expect(r.err).toContain("deploybot needs DEPLOYBOT_REPO, DEPLOYBOT_DEPLOY_FRONTEND set");
  });
});
