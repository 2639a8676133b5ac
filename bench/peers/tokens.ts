/**
 * Context tokens (o200k, gpt-tokenizer): the same thread rendered three ways —
 * twelve's default (the `xmlYaml()` renderer, in one user message), standard chat
 * messages with tool calls (twelve's `chatMessages()`), and pretty JSON — for the
 * calculator and deploybot examples (run with their scripts, as their tests do) and a
 * 50-step thread.
 *
 * Two ways of counting messages, both applied to every form:
 * - "cookbook": OpenAI's cookbook (num_tokens_from_messages): 3 tokens of framing per
 *   message, plus the tokens of its role, content and name (+1 for a name); for
 *   assistant tool calls only the tool name and the JSON arguments. This is a lower
 *   bound for the chat form: the cookbook has no rule for tool calls, and tool-call ids
 *   are not counted although the API sends them.
 * - "harmony": the messages as OpenAI's published harmony format renders them for its
 *   open-weight models (gpt-oss), tokenized by gpt-tokenizer's own harmony chat encoder
 *   (o200k_harmony): a tool call is an assistant message on the commentary channel
 *   addressed `to=functions.<name>` with a json constraint, ended by `<|call|>`; its
 *   result a message from `functions.<name>` to the assistant; a final answer is on
 *   the final channel. This is what such a model actually reads.
 *
 * Run alone: npx tsx --tsconfig tsconfig.check.json bench/peers/tokens.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { encodeChat as encodeHarmonyChat } from "gpt-tokenizer/model/gpt-oss-20b";
import {
  type Agent,
  approve,
  chatMessages,
  createThread,
  defineAgent,
  defineIntent,
  json,
  makeEvent,
  reject,
  resume,
  run,
  type Thread,
  threadState,
} from "twelve-agents";
import type { Message } from "twelve-agents/model";
import { deterministicRuntime, type ScriptedAnswer, scriptedModel } from "twelve-agents/testing";
import { z } from "zod";
import calculator from "../../examples/calculator/agent.js";
import calculatorScript from "../../examples/calculator/script.json" with { type: "json" };
import { createDemoRepo } from "../../examples/deploybot/demo-repo.js";
import { createDeploybot } from "../../examples/deploybot/deploybot.js";
import { script, WORKLOADS } from "./workload.js";

const PER_MESSAGE = 3;

export function messageTokens(messages: readonly Message[]): number {
  let total = 0;
  for (const m of messages) {
    total += PER_MESSAGE + countTokens(m.role) + countTokens(m.content);
    if (m.name) total += countTokens(m.name) + 1;
    for (const call of m.toolCalls ?? []) total += countTokens(call.name) + countTokens(JSON.stringify(call.arguments));
  }
  return total;
}

type HarmonyMessage = Parameters<typeof encodeHarmonyChat>[0][number];

/** The messages in OpenAI's harmony format (gpt-oss), as gpt-tokenizer's harmony encoder renders them. */
export function harmonyTokens(messages: readonly Message[]): number {
  const chat: HarmonyMessage[] = [];
  for (const m of messages) {
    if (m.role === "tool") {
      const name = `functions.${m.name ?? "tool"}`;
      chat.push({
        role: "tool",
        name,
        recipient: "assistant",
        recipientPlacement: "role",
        channel: "commentary",
        content: m.content,
      });
      continue;
    }
    if (m.role === "assistant") {
      if (m.content) chat.push({ role: "assistant", channel: "final", content: m.content });
      for (const call of m.toolCalls ?? [])
        chat.push({
          role: "assistant",
          channel: "commentary",
          recipient: `functions.${call.name}`,
          constraint: "json",
          content: JSON.stringify(call.arguments),
          terminator: "<|call|>",
        });
      continue;
    }
    chat.push({ role: m.role, content: m.content });
  }
  // No priming "<|start|>assistant" at the end: it is the same for every form.
  return encodeHarmonyChat(chat, "gpt-oss-20b", { primeWithAssistantResponse: "" }).length;
}

const asMessages = (rendered: string | Message[]): Message[] =>
  typeof rendered === "string" ? [{ role: "user", content: rendered }] : rendered;

/** A text rendering goes into one user message. */
const textTokens = (text: string | Message[]): number => messageTokens(asMessages(text));

/** Runs an agent through a script, answering every pause with the next decision. */
async function scripted(
  agent: Agent,
  task: string,
  answers: readonly ScriptedAnswer[],
  decisions: ReturnType<typeof approve>[] = [],
): Promise<Thread> {
  const runtime = deterministicRuntime();
  const model = scriptedModel(answers);
  let thread = createThread(agent.name, [makeEvent(runtime, "user_message", task)], { runtime });
  thread = await run(agent, thread, { model, runtime });
  for (const decision of decisions) {
    if (threadState(thread).status !== "awaiting_approval") break;
    thread = await resume(agent, thread, decision, { model, runtime });
  }
  model.assertDone();
  if (threadState(thread).status !== "done")
    throw new Error(`${agent.name}: scripted run ended ${threadState(thread).status}`);
  return thread;
}

async function deploybotThread(): Promise<[Agent, Thread]> {
  const dir = await mkdtemp(join(tmpdir(), "bench-deploybot-"));
  try {
    const repo = await createDemoRepo(join(dir, "repo"));
    const echo = (part: string) => `echo "${part} $TAG is live on $ENVIRONMENT"`;
    const agent = createDeploybot({ repo, deployBackend: echo("backend"), deployFrontend: echo("frontend") });
    const release = { tag: "v1.2.3", environment: "production" };
    // The essay's story: frontend first is rejected, then backend and frontend are approved.
    const thread = await scripted(
      agent,
      "deploy the latest release to production",
      [
        { intent: "deploy_frontend", ...release },
        { intent: "deploy_backend", ...release },
        { intent: "deploy_frontend", ...release },
        { intent: "done_for_now", message: "Deployed v1.2.3 to production: backend first, then frontend." },
      ],
      [reject(undefined, "deploy the backend first"), approve(), approve()],
    );
    return [agent, thread];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function fiftyStepThread(): Promise<[Agent, Thread]> {
  const operands = z.object({ a: z.number(), b: z.number() });
  const agent = defineAgent({
    name: "calc50",
    instructions: "You are a careful calculator.",
    intents: [
      defineIntent("add", operands, { description: "Add a and b", handler: ({ a, b }) => a + b }),
      defineIntent("multiply", operands, { description: "Multiply a by b", handler: ({ a, b }) => a * b }),
    ],
    maxSteps: 100,
  });
  const answers: ScriptedAnswer[] = script(WORKLOADS.long).map((s) =>
    s.kind === "tool" ? { intent: s.tool, a: s.a, b: s.b } : { intent: "done_for_now", message: s.message },
  );
  return [agent, await scripted(agent, "Run the benchmark calculation, one operation per step.", answers)];
}

export interface TokenRow {
  thread: string;
  events: number;
  /** Cookbook counting. */
  xmlYaml: number;
  chat: number;
  prettyJson: number;
  /** Harmony counting. */
  harmony: { xmlYaml: number; chat: number; prettyJson: number };
}

export async function tokenRows(): Promise<TokenRow[]> {
  const threads: [string, Agent, Thread][] = [
    [
      "calculator (example)",
      calculator,
      await scripted(
        calculator,
        "multiply 3 and 4, then divide by 2, then add 12",
        calculatorScript as ScriptedAnswer[],
        [approve()],
      ),
    ],
    ["deploybot (example, essay story)", ...(await deploybotThread())],
    ["50 tool steps", ...(await fiftyStepThread())],
  ];
  return threads.map(([name, agent, thread]) => ({
    thread: name,
    events: thread.events.length,
    xmlYaml: textTokens(agent.context(thread)),
    chat: messageTokens(chatMessages()(thread) as Message[]),
    prettyJson: textTokens(json({ pretty: true })(thread)),
    harmony: {
      xmlYaml: harmonyTokens(asMessages(agent.context(thread))),
      chat: harmonyTokens(chatMessages()(thread) as Message[]),
      prettyJson: harmonyTokens(asMessages(json({ pretty: true })(thread))),
    },
  }));
}

function saving(ours: number, chat: number): string {
  const pct = ((chat - ours) / chat) * 100;
  return pct >= 0 ? `${pct.toFixed(0)}% fewer` : `${(-pct).toFixed(0)}% more`;
}

export async function tokenTable(): Promise<string> {
  const rows = await tokenRows();
  const lines = [
    "| thread | events | counting | twelve default | chat messages + tool calls | pretty JSON | default vs chat |",
    "|---|--:|---|--:|--:|--:|--:|",
    ...rows.flatMap((r) => [
      `| ${r.thread} | ${r.events} | cookbook | ${r.xmlYaml} | ${r.chat} | ${r.prettyJson} | ${saving(r.xmlYaml, r.chat)} |`,
      `| | | harmony | ${r.harmony.xmlYaml} | ${r.harmony.chat} | ${r.harmony.prettyJson} | ${saving(r.harmony.xmlYaml, r.harmony.chat)} |`,
    ]),
  ];
  const saved = (ours: number, chat: number) => (chat - ours) / chat;
  const worstCookbook = Math.min(...rows.map((r) => saved(r.xmlYaml, r.chat)));
  const worstHarmony = Math.min(...rows.map((r) => saved(r.harmony.xmlYaml, r.harmony.chat)));
  lines.push("");
  for (const [name, worst] of [
    ["cookbook counting (a lower bound for chat)", worstCookbook],
    ["harmony counting (what gpt-oss reads)", worstHarmony],
  ] as const) {
    lines.push(
      `- ${worst >= 0.3 ? "MET " : "MISSED"} default rendering ≥ 30% fewer tokens than chat messages, ${name}: worst case ${(worst * 100).toFixed(0)}% (negative = more tokens than chat)`,
    );
  }
  return lines.join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log(await tokenTable());
