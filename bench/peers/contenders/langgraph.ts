// LangGraph.js: createReactAgent with a fake tool-calling chat model (a BaseChatModel
// subclass returning the scripted steps), without a checkpointer, with MemorySaver and
// with SqliteSaver. "resume" uses interruptBefore: ["tools"]; approving is invoking the
// graph again on the same thread id, with the state coming back from the checkpointer.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import { tool } from "@langchain/core/tools";
import { MemorySaver } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { z } from "zod";
import { type Contender, type Runner, type RunOutcome, utf8Bytes } from "../contender.js";
import type { Meter } from "../meter.js";
import { TASK, WORKLOADS, type WorkloadName } from "../workload.js";

class ScriptChatModel extends BaseChatModel {
  private calls = 0;
  constructor(private readonly meter: Meter) {
    super({});
  }

  _llmType(): string {
    return "bench-script";
  }

  // Tools are part of the script, so binding them changes nothing.
  override bindTools(): this {
    return this;
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const step = this.meter.modelStart(() => String(messages.at(-1)?.content ?? ""));
    this.calls++;
    const message =
      step.kind === "tool"
        ? new AIMessage({
            content: "",
            tool_calls: [
              { id: `call_${this.calls}`, name: step.tool, args: { a: step.a, b: step.b }, type: "tool_call" },
            ],
          })
        : new AIMessage({ content: step.message });
    const result: ChatResult = {
      generations: [{ text: typeof message.content === "string" ? message.content : "", message }],
    };
    this.meter.modelEnd();
    return result;
  }
}

type Saver = "none" | "memory" | "sqlite" | "sqlite-normal";

function makeContender(id: string, label: string, saver: Saver): Contender {
  return {
    id,
    label,
    workloads: saver === "none" ? ["calc", "long"] : ["calc", "long", "resume"],
    async prepare(name: WorkloadName, meter: Meter): Promise<Runner> {
      const workload = WORKLOADS[name];
      const operands = z.object({ a: z.number(), b: z.number() });
      const tools = [
        tool(async ({ a, b }) => meter.tool("add", a, b), {
          name: "add",
          description: "Add a and b",
          schema: operands,
        }),
        tool(async ({ a, b }) => meter.tool("multiply", a, b), {
          name: "multiply",
          description: "Multiply a by b",
          schema: operands,
        }),
      ];
      const dir = saver.startsWith("sqlite") ? mkdtempSync(join(tmpdir(), "bench-langgraph-")) : undefined;
      const memory = saver === "memory" ? new MemorySaver() : undefined;
      const sqlite = dir ? SqliteSaver.fromConnString(join(dir, "checkpoints.db")) : undefined;
      if (sqlite) {
        // SqliteSaver's own set-up (WAL, tables) leaves its connection at synchronous=NORMAL
        // (better-sqlite3 builds SQLite with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1), so commits are
        // not fsynced by default. Run the set-up first, then pin the mode the row is labelled
        // with, and check it: "FULL" fsyncs every checkpoint, like twelve's `full`.
        (sqlite as unknown as { setup(): void }).setup();
        const mode = saver === "sqlite-normal" ? "NORMAL" : "FULL";
        sqlite.db.pragma(`synchronous = ${mode}`);
        const level = sqlite.db.pragma("synchronous", { simple: true });
        if (level !== (mode === "FULL" ? 2 : 1)) throw new Error(`SqliteSaver: synchronous is ${level}, not ${mode}`);
      }
      const checkpointer = memory ?? sqlite;
      const agent = createReactAgent({
        llm: new ScriptChatModel(meter),
        tools,
        prompt: "You are a careful calculator. Do one operation per step, then report the final result.",
        ...(checkpointer ? { checkpointer } : {}),
        ...(workload.approval ? { interruptBefore: ["tools" as const] } : {}),
      });
      const recursionLimit = 2 * workload.toolSteps + 10;

      // Bytes the checkpointer holds for one thread: every checkpoint and pending write.
      const storedBytes = (threadId: string): number => {
        if (memory) {
          let total = 0;
          for (const ns of Object.values(memory.storage[threadId] ?? {})) {
            for (const [checkpoint, metadata] of Object.values(ns))
              total += checkpoint.byteLength + metadata.byteLength;
          }
          for (const [key, writes] of Object.entries(memory.writes)) {
            if (!key.includes(threadId)) continue;
            for (const [, , value] of Object.values(writes)) total += value.byteLength;
          }
          return total;
        }
        if (sqlite) {
          const row = sqlite.db
            .prepare(
              `SELECT (SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM checkpoints WHERE thread_id = ?)
                    + (SELECT coalesce(sum(length(value)), 0) FROM writes WHERE thread_id = ?) AS bytes`,
            )
            .get(threadId, threadId) as { bytes: number };
          return row.bytes;
        }
        return 0;
      };
      // Bytes of the latest checkpoint alone: the state a resume starts from.
      const latestBytes = async (threadId: string): Promise<number> => {
        const tuple = await checkpointer?.getTuple({ configurable: { thread_id: threadId } });
        if (!tuple || !checkpointer) return 0;
        const [, bytes] = await checkpointer.serde.dumpsTyped(tuple.checkpoint);
        return bytes.byteLength;
      };

      let lastThread: string | undefined;
      return {
        async run(): Promise<RunOutcome> {
          const threadId = randomUUID();
          lastThread = threadId;
          const config = { configurable: { thread_id: threadId }, recursionLimit };
          let state = await agent.invoke({ messages: [{ role: "user", content: TASK }] }, config);
          if (workload.approval) {
            // Paused before the tools node on every tool call: approve by continuing the thread.
            while ((await agent.getState(config)).next.includes("tools")) {
              state = await agent.invoke(null, config);
            }
          }
          const messages = state.messages;
          const last = messages.at(-1);
          const outcome: RunOutcome = {
            finalText: typeof last?.content === "string" ? last.content : undefined,
            stateBytes: () => (checkpointer ? latestBytes(threadId) : utf8Bytes(JSON.stringify(messages))),
          };
          if (checkpointer) outcome.writtenBytes = () => storedBytes(threadId);
          return outcome;
        },
        async cleanup() {
          if (lastThread && checkpointer) await checkpointer.deleteThread(lastThread);
        },
        close() {
          sqlite?.db.close();
          if (dir) rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  };
}

export const langgraphPlain = makeContender("langgraph", "LangGraph createReactAgent", "none");
export const langgraphMemory = makeContender("langgraph-memory", "LangGraph + MemorySaver", "memory");
export const langgraphSqlite = makeContender("langgraph-sqlite", "LangGraph + SqliteSaver (sync=FULL)", "sqlite");
export const langgraphSqliteNormal = makeContender(
  "langgraph-sqlite-normal",
  "LangGraph + SqliteSaver (sync=NORMAL)",
  "sqlite-normal",
);
