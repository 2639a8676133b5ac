/**
 * One of several processes racing to approve the same paused thread. Opens
 * `handles` independent store connections, signals ready, waits for "go" on
 * stdin, then resumes through every handle at once and prints one JSON line
 * per attempt: {ok, duplicate?, code?, message?}.
 *
 * Every attempt answers the request as a human saw it when the thread paused
 * (its id and the digest of the arguments shown), as `approve(request)` does.
 *
 * usage: node resume-worker.mjs <store spec> <thread id> <request id> <args digest> <effects dir> <handles>
 */
import { createInterface } from "node:readline";
import { approve } from "../../src/agent/events.js";
import { resumeStored } from "../../src/runtime/index.js";
import { openStore } from "../../src/store/open.js";
import { deploybotAgent, planningModel } from "../crash/fixtures/agents.js";

const [spec, threadId, requestId, argsDigest, effects, handles] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const agent = deploybotAgent(effects);
const stores = await Promise.all(Array.from({ length: Number(handles) }, () => openStore(spec)));
process.stdout.write("ready\n");
await new Promise<void>((resolve) => {
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line === "go") resolve();
  });
});
const outcomes = await Promise.all(
  stores.map((store, i) =>
    resumeStored(
      store,
      agent,
      threadId,
      approve({ id: requestId, argsDigest }, { by: { id: `pid${process.pid}-h${i}`, via: "api" } }),
      { model: planningModel(), owner: `pid${process.pid}-h${i}`, leaseWaitMs: 30_000 },
    ).then(
      (r) => ({ ok: true, duplicate: r.duplicate }),
      (e: { code?: string; message?: string }) => ({ ok: false, code: e.code, message: e.message }),
    ),
  ),
);
for (const o of outcomes) process.stdout.write(`${JSON.stringify(o)}\n`);
await Promise.all(stores.map((s) => s.close()));
process.exit(0);
