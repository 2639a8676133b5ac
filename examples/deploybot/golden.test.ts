// Golden files of the exact prompt the deploybot sends: any change to the
// prompt, the context rendering or the intents' schemas shows up as a diff to
// review in __golden__/ (update with `npx vitest run -u` once it is intended).
import {
  chatMessages,
  createThread,
  defineAgent,
  type EventMeta,
  makeEvent,
  renderPrompt,
  type Thread,
} from "twelve-agents";
import { deterministicRuntime } from "twelve-agents/testing";
import { describe, expect, it } from "vitest";
import { promptText } from "../../test/docs/prompt-text.js";
import { createDeploybot } from "./deploybot.js";

// Rendering a prompt touches neither the repository nor the commands.
const deploybot = createDeploybot({
  repo: "/srv/app",
  deployBackend: "./deploy.sh backend",
  deployFrontend: "./deploy.sh frontend",
  checkStatus: "./status.sh",
});

/** The essay's thread, event by event, with the essay's tag data. */
function essayThread(tail: (add: (type: string, data: unknown, meta?: EventMeta) => string) => void): Thread {
  const runtime = deterministicRuntime();
  const events: ReturnType<typeof makeEvent>[] = [];
  const add = (type: string, data: unknown, meta?: EventMeta) => {
    const e = makeEvent(runtime, type, data, meta);
    events.push(e);
    return e.id;
  };
  add("user_message", "Can you deploy the latest release to production?");
  add("list_git_tags", { intent: "list_git_tags" }, { prefetch: true });
  add(
    "list_git_tags_result",
    {
      tags: [
        { name: "v1.2.3", commit: "abc123", date: "2024-03-15T10:00:00Z" },
        { name: "v1.2.2", commit: "def456", date: "2024-03-14T15:30:00Z" },
        { name: "v1.2.1", commit: "ghi789", date: "2024-03-13T09:15:00Z" },
      ],
    },
    { kind: "result", intent: "list_git_tags", prefetch: true },
  );
  tail(add);
  return createThread("deploybot", events, { id: "thr_golden" });
}

const step = (intent: string, policy: EventMeta["policy"]): EventMeta => ({ kind: "step", intent, policy });
const release = { tag: "v1.2.3", environment: "production" };

const afterRejection = essayThread((add) => {
  const id = add("deploy_frontend", { intent: "deploy_frontend", ...release }, step("deploy_frontend", "approve"));
  add("approval", { approved: false, feedback: "deploy the backend first" }, { stepId: id });
});

const afterFailedDeploy = essayThread((add) => {
  const id = add("deploy_backend", { intent: "deploy_backend", ...release }, step("deploy_backend", "approve"));
  add("approval", { approved: true }, { stepId: id });
  add("deploy_backend_started", { arguments: release }, { kind: "started", stepId: id, intent: "deploy_backend" });
  add(
    "error",
    {
      kind: "handler",
      intent: "deploy_backend",
      message: "deploy_backend command exited with code 3: Failed to connect to deployment service",
    },
    { stepId: id },
  );
});

describe("deploybot prompt (golden files)", () => {
  it("after the frontend deployment was rejected with feedback (xmlYaml, the default)", async () => {
    await expect(promptText(renderPrompt(deploybot, afterRejection))).toMatchFileSnapshot(
      "./__golden__/after-rejection.txt",
    );
  });

  it("after a deploy command failed: the compact error, not a stack trace", async () => {
    await expect(promptText(renderPrompt(deploybot, afterFailedDeploy))).toMatchFileSnapshot(
      "./__golden__/after-failed-deploy.txt",
    );
  });

  it("the same thread as standard chat messages", async () => {
    const asChat = defineAgent({
      name: "deploybot",
      instructions: deploybot.instructions,
      intents: deploybot.intents,
      hooks: deploybot.hooks,
      context: chatMessages(),
    });
    await expect(promptText(renderPrompt(asChat, afterRejection))).toMatchFileSnapshot(
      "./__golden__/after-rejection.chat.txt",
    );
  });
});
