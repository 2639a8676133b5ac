/**
 * The agent module the CLI crash tests hand to `twelve run` (bundled once per
 * test file with esbuild into one ESM file, see harness `bundle()`; twelve's
 * defineAgent and zod are inlined, and the CLI recognises the agent by its
 * shape).
 *
 * `deploy:N` asks for N deploys in sequence, each behind an approval, then
 * done. `deploy_backend` is NOT idempotent: its handler writes a "begin"
 * marker, sleeps 0–120 ms, performs the side effect (one fsynced file in
 * $TWELVE_FIXTURE_EFFECTS, see recordEffect), then sleeps ~250 ms before
 * returning, so a test that kills the process after the marker appears
 * lands mid-handler, with or without the effect done.
 *
 * The exported `model` plans from the thread it is shown (thread id and
 * events as JSON), so every process takes the same next step for the same
 * thread: a `script:` model would restart from the top in each process.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { defineAgent } from "../../src/agent/agent.js";
import { defineIntent } from "../../src/intent/intent.js";
import type { GenerateRequest, Model } from "../../src/model/types.js";
import type { Event } from "../../src/thread/event.js";
import { recordEffect } from "./fixtures/agents.js";

/** What the begin marker holds: enough for a human (the test) to match it to the request shown. */
export interface BeginMarker {
  thread: string;
  step: string;
  tag: string;
  pid: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function effectsDir(): string {
  const dir = process.env.TWELVE_FIXTURE_EFFECTS;
  if (!dir) throw new Error("cli-fixture: set TWELVE_FIXTURE_EFFECTS to the effects directory");
  return dir;
}

/** `<thread>.<step>.<pid>.begin`, written whole (temp file + rename) so a reader never sees it torn. */
function writeBegin(dir: string, marker: BeginMarker): void {
  mkdirSync(dir, { recursive: true });
  const name = `${marker.thread}.${marker.step}.${marker.pid}.begin`;
  const tmp = join(dir, `${name}.tmp`);
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, JSON.stringify(marker));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
}

export const agent = defineAgent({
  name: "deploybot",
  intents: [
    defineIntent("deploy_backend", z.object({ tag: z.string(), environment: z.string() }), {
      description: "deploy a tag to an environment (irreversible)",
      policy: "approve",
      idempotent: false,
      handler: async (args, ctx) => {
        const dir = effectsDir();
        writeBegin(dir, { thread: ctx.thread.id, step: ctx.stepId, tag: args.tag, pid: process.pid });
        await sleep(Math.random() * 120);
        recordEffect(dir, { thread: ctx.thread.id, step: ctx.stepId, intent: "deploy_backend", pid: process.pid });
        await sleep(250);
        return { deployed: args.tag, environment: args.environment };
      },
    }),
  ],
  // The prompt is ours (factor 2): the fixture model reads the thread as JSON.
  prompt: ({ thread }) => [{ role: "user", content: JSON.stringify({ thread: thread.id, events: thread.events }) }],
  maxSteps: 50,
});

/** `deploy:N` → deploy v1 … vN (one approval each), then done; a rejection ends the thread. */
function plan(events: Event[]): Record<string, unknown> {
  const text = String(events[0]?.data ?? "");
  const total = text.startsWith("deploy:") ? Number(text.slice(7)) : 0;
  const approval = events.findLast((e) => e.type === "approval");
  if (approval && (approval.data as { approved?: boolean }).approved === false) {
    return { intent: "done_for_now", message: "deploy cancelled" };
  }
  const done = events.filter((e) => e.type === "deploy_backend_result").length;
  if (!Number.isInteger(total) || done >= total) return { intent: "done_for_now", message: `deployed ${done}` };
  return { intent: "deploy_backend", tag: `v${done + 1}`, environment: "production" };
}

export const model: Model = {
  id: "fixture:cli-deploy",
  async generate(request: GenerateRequest) {
    const shown = JSON.parse(request.messages.at(-1)?.content ?? "{}") as { events?: Event[] };
    return { text: JSON.stringify(plan(shown.events ?? [])) };
  },
};

export default agent;
