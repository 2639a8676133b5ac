import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  approve,
  createThread,
  humanRequest,
  makeEvent,
  reject,
  respond,
  resume,
  run,
  type Thread,
  threadState,
} from "twelve-agents";
import { deterministicRuntime, scriptedModel } from "twelve-agents/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromEnv } from "./config.js";
import { createDemoRepo } from "./demo-repo.js";
import { createDeploybot, type DeploybotConfig } from "./deploybot.js";

/** type + data of every event: the exact story of the thread. */
const story = (thread: Thread) => thread.events.map((e) => [e.type, e.data]);

let dir: string;
let repo: string;
/** The tags as `git` itself reports them, so expectations are not copied from the code under test. */
let tags: { name: string; commit: string; date: string }[];
let fullCommit: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "twelve-deploybot-"));
  repo = await createDemoRepo(join(dir, "repo"));
  const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8" }).trim();
  tags = ["v1.2.3", "v1.2.2", "v1.2.1"].map((name) => ({
    name,
    commit: git("rev-parse", "--short=7", `${name}^{commit}`),
    date: new Date(git("log", "-1", "--format=%cI", name)).toISOString(),
  }));
  fullCommit = Object.fromEntries(tags.map((t) => [t.name, git("rev-parse", `${t.name}^{commit}`)]));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deploy commands that record what they did in their own files, under a fresh folder per test. */
async function setup(overrides: Partial<DeploybotConfig> = {}) {
  const out = await mkdtemp(join(dir, "out-"));
  const record = (part: string) =>
    `echo "$TAG $COMMIT $ENVIRONMENT" >> "$OUT/deployed-${part}.txt" && echo "${part}" >> "$OUT/order.log" && echo "${part} $TAG is live on $ENVIRONMENT"`;
  const agent = createDeploybot({
    repo,
    deployBackend: record("backend"),
    deployFrontend: record("frontend"),
    checkStatus: 'echo "status of $ENVIRONMENT: backend $(cat "$OUT/deployed-backend.txt" 2>/dev/null || echo none)"',
    env: { OUT: out },
    ...overrides,
  });
  const lines = async (name: string) =>
    existsSync(join(out, name)) ? (await readFile(join(out, name), "utf8")).trim().split("\n") : [];
  return { agent, out, lines };
}

function start(text: string, runtime = deterministicRuntime()) {
  return { runtime, thread: createThread("deploybot", [makeEvent(runtime, "user_message", text)], { runtime }) };
}

const prefetched = () => [
  ["list_git_tags", { intent: "list_git_tags" }],
  ["list_git_tags_result", { tags }],
];

describe("deploybot example (real git repo, real shell commands)", () => {
  it("the essay's story: frontend rejected → backend approved and run → frontend approved and run → done", async () => {
    const { agent, lines } = await setup();
    const { runtime, thread } = start("deploy the latest release to production");
    const release = { tag: "v1.2.3", environment: "production" };
    const model = scriptedModel([
      { intent: "deploy_frontend", ...release },
      { intent: "deploy_backend", ...release },
      { intent: "deploy_frontend", ...release },
      { intent: "done_for_now", message: "Deployed v1.2.3 to production: backend first, then frontend." },
    ]);

    let t = await run(agent, thread, { model, runtime });
    expect(threadState(t)).toMatchObject({
      status: "awaiting_approval",
      pending: { kind: "approval", intent: "deploy_frontend", arguments: release },
    });
    // Pre-fetch (factor 13): the tags were in the very first prompt, no round trip spent on them.
    expect(model.calls[0]?.messages.at(-1)?.content).toContain(
      `<list_git_tags>\ntags:\n  - name: v1.2.3\n    commit: ${tags[0]?.commit}`,
    );
    // Nothing ran before a human decided.
    expect(await lines("order.log")).toEqual([]);

    t = await resume(agent, t, reject(humanRequest(t), "deploy the backend first"), { model, runtime });
    expect(threadState(t)).toMatchObject({ status: "awaiting_approval", pending: { intent: "deploy_backend" } });
    expect(model.calls[1]?.messages.at(-1)?.content).toContain(
      '<deploy_frontend tag="v1.2.3" environment="production"><rejected>deploy the backend first</rejected></deploy_frontend>',
    );
    expect(await lines("order.log")).toEqual([]);

    // Resume from plain JSON, as another process would.
    const restored = JSON.parse(JSON.stringify(t)) as Thread;
    t = await resume(agent, restored, approve(humanRequest(restored)), { model, runtime });
    expect(threadState(t)).toMatchObject({ status: "awaiting_approval", pending: { intent: "deploy_frontend" } });
    expect(await lines("order.log")).toEqual(["backend"]);

    t = await resume(agent, t, approve(humanRequest(t)), { model, runtime });
    model.assertDone();
    expect(threadState(t).status).toBe("done");
    expect(story(t)).toEqual([
      ["user_message", "deploy the latest release to production"],
      ...prefetched(),
      ["deploy_frontend", { intent: "deploy_frontend", ...release }],
      ["approval", { approved: false, feedback: "deploy the backend first" }],
      ["deploy_backend", { intent: "deploy_backend", ...release }],
      ["approval", { approved: true }],
      ["deploy_backend_started", { arguments: release }],
      ["deploy_backend_result", { status: "success", ...release, output: "backend v1.2.3 is live on production" }],
      ["deploy_frontend", { intent: "deploy_frontend", ...release }],
      ["approval", { approved: true }],
      ["deploy_frontend_started", { arguments: release }],
      ["deploy_frontend_result", { status: "success", ...release, output: "frontend v1.2.3 is live on production" }],
      [
        "done_for_now",
        { intent: "done_for_now", message: "Deployed v1.2.3 to production: backend first, then frontend." },
      ],
    ]);
    expect(t.events[1]?.meta).toMatchObject({ prefetch: true });
    // The commands' own output: each ran exactly once, with the right tag and commit, backend first.
    expect(await lines("deployed-backend.txt")).toEqual([`v1.2.3 ${fullCommit["v1.2.3"]} production`]);
    expect(await lines("deployed-frontend.txt")).toEqual([`v1.2.3 ${fullCommit["v1.2.3"]} production`]);
    expect(await lines("order.log")).toEqual(["backend", "frontend"]);
  });

  it("a failing deploy command becomes a compact error event; the model asks a human and checks the status", async () => {
    const { agent, lines } = await setup({
      deployBackend: 'echo "connecting to deploy service..."; echo "deploy service unreachable (503)" >&2; exit 3',
    });
    const { runtime, thread } = start("deploy backend v1.2.2 to staging");
    const release = { tag: "v1.2.2", environment: "staging" };
    const question = "The deploy service failed (exit 3, 503). Should I check the deployment status?";
    const model = scriptedModel([
      { intent: "deploy_backend", ...release },
      { intent: "request_human_input", question, options: { urgency: "high", format: "yes_no" } },
      { intent: "check_deployment_status", environment: "staging" },
      { intent: "done_for_now", message: "The backend was not deployed: the deploy service is unreachable." },
    ]);
    let t = await run(agent, thread, { model, runtime });
    t = await resume(agent, t, approve(humanRequest(t)), { model, runtime });
    expect(threadState(t)).toMatchObject({
      status: "awaiting_human",
      pending: { kind: "question", question, format: "yes_no" },
    });
    const error = t.events.find((e) => e.type === "error");
    expect(error?.data).toEqual({
      kind: "handler",
      intent: "deploy_backend",
      message: "deploy_backend command exited with code 3: deploy service unreachable (503)",
    });
    expect(error?.meta?.stack).toBeUndefined();
    // The model saw the error, compact, in its context: inside the step it is about, after the approval.
    expect(model.calls[1]?.messages.at(-1)?.content).toContain(
      '<deploy_backend tag="v1.2.2" environment="staging"><approved/><error>deploy_backend command exited with code 3: deploy service unreachable (503)</error></deploy_backend>',
    );

    t = await resume(agent, t, respond(humanRequest(t), "yes"), { model, runtime });
    model.assertDone();
    expect(story(t).slice(3)).toEqual([
      ["deploy_backend", { intent: "deploy_backend", ...release }],
      ["approval", { approved: true }],
      ["deploy_backend_started", { arguments: release }],
      ["error", error?.data],
      [
        "request_human_input",
        { intent: "request_human_input", question, options: { urgency: "high", format: "yes_no" } },
      ],
      ["human_response", { response: true }],
      ["check_deployment_status", { intent: "check_deployment_status", environment: "staging" }],
      ["check_deployment_status_started", { arguments: { environment: "staging" } }],
      ["check_deployment_status_result", { environment: "staging", output: "status of staging: backend none" }],
      [
        "done_for_now",
        { intent: "done_for_now", message: "The backend was not deployed: the deploy service is unreachable." },
      ],
    ]);
    expect(await lines("deployed-frontend.txt")).toEqual([]);
  });

  it("refuses a tag that does not exist before running any command", async () => {
    const { agent, lines } = await setup();
    const { runtime, thread } = start("deploy v9.9.9 to production");
    const model = scriptedModel([
      { intent: "deploy_backend", tag: "v9.9.9", environment: "production" },
      { intent: "done_for_now", message: "There is no v9.9.9." },
    ]);
    let t = await run(agent, thread, { model, runtime });
    t = await resume(agent, t, approve(), { model, runtime });
    model.assertDone();
    expect(t.events.find((e) => e.type === "error")?.data).toEqual({
      kind: "handler",
      intent: "deploy_backend",
      message: 'tag "v9.9.9" does not exist in the repository; pick one of the listed tags',
    });
    expect(await lines("order.log")).toEqual([]);
  });

  it("a tag full of shell syntax reaches the command as data, never as code", async () => {
    // A real tag with shell syntax in its name (git allows it), in a repository of its own.
    const weirdRepo = await createDemoRepo(await mkdtemp(join(dir, "weird-")));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax, on purpose.
    const evil = "v1.3.0$(touch${IFS}pwned);touch${IFS}pwned2";
    execFileSync("git", ["-C", weirdRepo, "tag", evil]);
    const { agent, out, lines } = await setup({ repo: weirdRepo });
    const { runtime, thread } = start("deploy the newest tag to staging");
    const model = scriptedModel([
      { intent: "deploy_backend", tag: evil, environment: "staging" },
      { intent: "done_for_now", message: "deployed" },
    ]);
    const t = await resume(agent, await run(agent, thread, { model, runtime }), approve(), { model, runtime });
    expect(threadState(t).status).toBe("done");
    expect(await lines("deployed-backend.txt")).toEqual([`${evil} ${fullCommit["v1.2.3"]} staging`]);
    for (const where of [out, weirdRepo]) {
      expect(existsSync(join(where, "pwned"))).toBe(false);
      expect(existsSync(join(where, "pwned2"))).toBe(false);
    }
  });

  it("keeps only the end of a long command output in the thread", async () => {
    const { agent } = await setup({ deployBackend: "seq 1 20000" });
    const { runtime, thread } = start("deploy");
    const model = scriptedModel([
      { intent: "deploy_backend", tag: "v1.2.1", environment: "staging" },
      { intent: "done_for_now", message: "done" },
    ]);
    const t = await resume(agent, await run(agent, thread, { model, runtime }), approve(), { model, runtime });
    const result = t.events.find((e) => e.type === "deploy_backend_result")?.data as { output: string } | undefined;
    const output = result?.output ?? "";
    expect(output.length).toBe(4001);
    expect(output.startsWith("…")).toBe(true);
    expect(output.endsWith("19999\n20000")).toBe(true);
  });

  it("list_git_tags runs the real git when the model asks again", async () => {
    const { agent } = await setup();
    const { runtime, thread } = start("which releases are there?");
    const model = scriptedModel([{ intent: "list_git_tags" }, { intent: "done_for_now", message: "v1.2.1 .. v1.2.3" }]);
    const t = await run(agent, thread, { model, runtime });
    expect(story(t).slice(3, 6)).toEqual([
      ["list_git_tags", { intent: "list_git_tags" }],
      ["list_git_tags_started", { arguments: {} }],
      ["list_git_tags_result", { tags }],
    ]);
  });

  it("a pre-fetch that fails (not a git repository) is a compact error the model can act on", async () => {
    const notRepo = await mkdtemp(join(dir, "not-a-repo-"));
    const { agent } = await setup({ repo: notRepo });
    const { runtime, thread } = start("deploy the latest release");
    const model = scriptedModel([{ intent: "request_human_input", question: "Which repository should I use?" }]);
    const t = await run(agent, thread, { model, runtime });
    expect(story(t)[1]).toEqual(["list_git_tags", { intent: "list_git_tags" }]);
    expect(t.events[2]?.type).toBe("error");
    expect(t.events[2]?.data).toEqual({
      kind: "prefetch",
      intent: "list_git_tags",
      message: expect.stringMatching(/^git for-each-ref failed in .*not a git repository/),
    });
    expect(threadState(t).status).toBe("awaiting_human");
  });

  it("check_deployment_status exists only when a status command is configured", () => {
    const names = (c: Partial<DeploybotConfig>) =>
      createDeploybot({ repo, deployBackend: "true", deployFrontend: "true", ...c }).intents.map((i) => i.name);
    expect(names({})).toEqual([
      "list_git_tags",
      "deploy_backend",
      "deploy_frontend",
      "request_human_input",
      "done_for_now",
    ]);
    expect(names({ checkStatus: "true" })).toContain("check_deployment_status");
  });
});

describe("deploybot configuration", () => {
  it("createDeploybot names the bad option", () => {
    expect(() => createDeploybot({ repo, deployBackend: " ", deployFrontend: "true" })).toThrowError(
      expect.objectContaining({
        code: "config_error",
        message: 'createDeploybot: "deployBackend" must be a non-empty string',
      }),
    );
    expect(() =>
      createDeploybot({ repo, deployBackend: "true", deployFrontend: "true", checkStatus: "" }),
    ).toThrowError(/"checkStatus" must be a non-empty string when given/);
  });
});

describe("deploybot configuration from the environment (for `twelve run`)", () => {
  it("names every missing variable", () => {
    expect(() => configFromEnv({})).toThrowError(
      expect.objectContaining({
        code: "config_error",
        message: expect.stringMatching(
          /^deploybot needs DEPLOYBOT_REPO, DEPLOYBOT_DEPLOY_BACKEND, DEPLOYBOT_DEPLOY_FRONTEND set\./,
        ),
      }),
    );
    expect(() => configFromEnv({ DEPLOYBOT_REPO: repo, DEPLOYBOT_DEPLOY_BACKEND: "true" })).toThrowError(
      /needs DEPLOYBOT_DEPLOY_FRONTEND set/,
    );
  });

  it("rejects a repository path that is not a directory", () => {
    expect(() =>
      configFromEnv({
        DEPLOYBOT_REPO: join(dir, "nope"),
        DEPLOYBOT_DEPLOY_BACKEND: "true",
        DEPLOYBOT_DEPLOY_FRONTEND: "true",
      }),
    ).toThrowError(
      expect.objectContaining({ code: "config_error", message: expect.stringContaining("is not a directory") }),
    );
  });

  it("reads the commands and the optional status command", () => {
    expect(
      configFromEnv({
        DEPLOYBOT_REPO: repo,
        DEPLOYBOT_DEPLOY_BACKEND: "./be.sh",
        DEPLOYBOT_DEPLOY_FRONTEND: "./fe.sh",
        DEPLOYBOT_CHECK_STATUS: "./status.sh",
      }),
    ).toEqual({ repo, deployBackend: "./be.sh", deployFrontend: "./fe.sh", checkStatus: "./status.sh" });
  });
});
