/**
 * One of several processes racing to answer the same request. Opens
 * `handles` independent connections to the store, signals ready, waits for
 * "go" on stdin, then answers `approve(request)` through every handle at
 * once (one runtime per handle) and prints one JSON line per attempt:
 * {ok, duplicate?, code?, message?}.
 *
 * usage: node answer-worker.mjs <store spec> <request id> <args digest> <effects dir> <handles>
 */
import { createInterface } from "node:readline";
import { approve } from "../../src/agent/events.js";
import { createRuntime } from "../../src/runtime/runtime.js";
import { openStore } from "../../src/store/open.js";
import { deploybotAgent, planningModel } from "../crash/fixtures/agents.js";

const [spec, id, digest, effects, handles] = process.argv.slice(2) as [string, string, string, string, string];
const agent = deploybotAgent(effects);
const stores = await Promise.all(Array.from({ length: Number(handles) }, () => openStore(spec)));
process.stdout.write("ready\n");
await new Promise<void>((resolve) => {
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line === "go") resolve();
  });
});
const outcomes = await Promise.all(
  stores.map((store, i) => {
    const runtime = createRuntime({ store, agents: agent, model: planningModel(), answerWaitMs: 30_000 });
    const by = { id: `pid${process.pid}-h${i}`, via: "api" as const };
    return runtime.answer(approve({ id, argsDigest: digest }, { by })).then(
      (r) => ({ ok: true, duplicate: r.duplicate, status: r.state.status }),
      (e: { code?: string; message?: string }) => ({ ok: false, code: e.code, message: e.message }),
    );
  }),
);
for (const o of outcomes) process.stdout.write(`${JSON.stringify(o)}\n`);
await Promise.all(stores.map((s) => s.close()));
process.exit(0);
