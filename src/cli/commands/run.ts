import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import type { Agent } from "../../agent/agent.js";
import { RequestError, TwelveError } from "../../errors/index.js";
import { resolveModel } from "../../model/resolve.js";
import type { Model } from "../../model/types.js";
import { createRuntime, type RuntimeResult } from "../../runtime/runtime.js";
import { ThreadNotFoundError } from "../../store/errors.js";
import type { ThreadStore } from "../../store/types.js";
import type { By } from "../../thread/event.js";
import { type Answer, type HumanRequest, parseRequestId } from "../../thread/request.js";
import {
  DECISION_FLAGS,
  type Decide,
  type DecisionFlags,
  flagAnswer,
  flagName,
  stdinAnswers,
  terminalAnswers,
  yesAnswers,
} from "../answers.js";
import { EXIT, explainError, isPromptExit } from "../errors.js";
import { type LiveLine, liveLine } from "../live.js";
import { loadAgentModule } from "../load-agent.js";
import { printer } from "../print.js";
import { openCliStore, storeName } from "../store.js";
import { threadFiles } from "../thread-files.js";

export interface RunCommandOptions extends DecisionFlags {
  model?: string;
  thread?: string;
  /** The request the decision flag answers (printed in the pause hint). */
  request?: string;
  /** The digest of the arguments shown (printed in the pause hint for approvals and uncertain steps). */
  digest?: string;
  yes?: boolean;
  stdin?: boolean;
  input?: boolean;
  /** Thread store: SQLite file, sqlite:<path> or postgres:// URL. Default $TWELVE_STORE, else .twelve/twelve.db. */
  store?: string;
}

export interface CliIO {
  /** Aborted on Ctrl-C / SIGTERM: the run stops and gives its lease back, so the thread resumes at once. */
  signal?: AbortSignal;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  interactive: boolean;
  color: boolean;
  /** Standard output is a terminal: a step's arguments are shown filling in on one rewritten line. */
  live?: boolean;
  /** The terminal's width now, for the live line. Default 80. */
  columns?: () => number | undefined;
}

/** Exit codes: 0 done, 1 the thread failed, 2 bad input, 3 paused awaiting an answer (all of them: ../errors.ts). */
export { EXIT };

const invalidFlag = (message: string) => new TwelveError("invalid_flag", message);

/**
 * How long this process's lease on a thread outlives it if it is killed
 * (renewed every third of it while it runs). Short, so a resume after a
 * crash does not wait long; $TWELVE_LEASE_TTL_MS overrides. Ctrl-C gives the
 * lease back at once.
 */
function leaseTtl(env: NodeJS.ProcessEnv): number {
  return leaseTtlFromEnv(env) ?? 10_000;
}

/** $TWELVE_LEASE_TTL_MS, checked; undefined when unset. */
export function leaseTtlFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const text = env.TWELVE_LEASE_TTL_MS;
  if (text === undefined || text === "") return undefined;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 100) {
    throw new TwelveError(
      "invalid_flag",
      `TWELVE_LEASE_TTL_MS must be a whole number of milliseconds >= 100, got ${text}`,
    );
  }
  return ms;
}

/** Who answers from this terminal: $TWELVE_USER, else the OS user. */
function cliUser(env: NodeJS.ProcessEnv): By {
  let id = env.TWELVE_USER;
  if (!id) {
    try {
      id = userInfo().username;
    } catch {
      id = "cli";
    }
  }
  return { id: id || "cli", via: "cli" };
}

/**
 * Refuses flag combinations that could answer something nobody saw: a
 * one-shot decision flag answers exactly the request named by --request;
 * --yes and --stdin answer only the requests this invocation raises, so on
 * a --thread resume (whose pending request this invocation did not raise)
 * they need --request too.
 */
function checkFlags(message: string | undefined, options: RunCommandOptions): void {
  const decisions = DECISION_FLAGS.filter((k) => options[k] !== undefined && options[k] !== false);
  if (decisions.length > 1) {
    throw invalidFlag(`${decisions.map(flagName).join(" and ")} conflict: give one decision`);
  }
  if (decisions.length === 1 && !options.request) {
    throw invalidFlag(
      `${flagName(decisions[0] as string)} needs --request <id>: the request it answers, printed when the thread paused`,
    );
  }
  if (options.request && decisions.length === 0) {
    throw invalidFlag(
      "--request needs a decision flag (--approve, --reject, --edit, --answer, --result, --mark-done, --run-again or --abandon)",
    );
  }
  if (options.digest !== undefined && !options.request) throw invalidFlag("--digest goes with --request");
  if (options.thread && !options.request && (options.yes || options.stdin)) {
    throw invalidFlag(
      `${options.yes ? "--yes" : "--stdin"} on a --thread resume needs --request <id>: it answers only requests this invocation raises`,
    );
  }
  if (options.request && message !== undefined) throw invalidFlag("give either a message or --request, not both");
  if (!options.thread && !options.request && (message === undefined || message.trim() === "")) {
    throw invalidFlag("give a message to start a thread, or --thread <id> to resume one");
  }
}

export async function runCommand(
  agentPath: string,
  message: string | undefined,
  options: RunCommandOptions,
  io: CliIO,
): Promise<number> {
  checkFlags(message, options);
  const { agent, model: moduleModel } = await loadAgentModule(agentPath, io.cwd);
  // Resolve the model before anything is written, so a bad --model leaves no thread behind.
  const model = await pickModel(options.model, moduleModel, io);
  const spec = options.store ?? io.env.TWELVE_STORE;
  const store = await openCliStore(spec, io.cwd);
  const live = io.live ? liveLine(io.stdout, io.columns ?? (() => undefined), io.color) : undefined;
  try {
    return await runWithStore(agent, agentPath, message, options, io, store, model, live);
  } catch (error) {
    // A store that turns out read-only (or locked, or full) at the first write: say which store.
    const explained = explainError(error, storeName(spec, io.cwd));
    throw explained && explained.code !== "interrupted" && !io.signal?.aborted ? explained : error;
  } finally {
    // A run that stops mid-stream (an error, Ctrl-C) leaves no half-written line behind.
    live?.clear();
    await store.close().catch(() => {});
  }
}

async function pickModel(flag: string | undefined, fromModule: Model | string | undefined, io: CliIO): Promise<Model> {
  const spec = flag ?? (io.env.TWELVE_MODEL || undefined);
  const model =
    spec === undefined && fromModule !== undefined && typeof fromModule !== "string"
      ? fromModule
      : await resolveModel(spec ?? (fromModule as string | undefined), { env: io.env });
  // An embedded model downloads and loads here, with its progress bar, before the first step.
  const loadable = model as { load?: () => Promise<unknown> };
  if (typeof loadable.load === "function") await loadable.load();
  return model;
}

/** Threads saved as `.twelve/threads/<id>.json` by earlier versions move into the store on first resume. */
async function importLegacyThread(store: ThreadStore, cwd: string, id: string): Promise<void> {
  if (await store.get(id)) return;
  const files = threadFiles(cwd);
  if (!existsSync(files.pathOf(id))) throw new ThreadNotFoundError(id);
  await store.create(await files.load(id));
}

async function runWithStore(
  agent: Agent,
  agentPath: string,
  message: string | undefined,
  options: RunCommandOptions,
  io: CliIO,
  store: ThreadStore,
  model: Model,
  live: LiveLine | undefined,
): Promise<number> {
  // On a terminal, the live line is erased before anything else is written (piped output never has one).
  const write = live
    ? (text: string) => {
        live.clear();
        io.stdout(text);
      }
    : io.stdout;
  const out = printer(write, io.color);
  const by = cliUser(io.env);
  let announced = options.thread !== undefined || options.request !== undefined;
  const rt = createRuntime({
    store,
    agents: agent,
    model,
    leaseTtlMs: leaseTtl(io.env),
    ...(io.signal && { signal: io.signal }),
    ...(live && { onPartial: live.partial }),
    onEvent: (e, thread) => {
      // A new thread's id comes first, so a kill at any later moment leaves it on screen.
      if (!announced) out.line(`thread ${thread.id}`);
      announced = true;
      out.event(e);
    },
  });
  const hint = { agentPath, model: options.model, store: options.store };

  let threadId = options.thread;
  if (options.request) {
    const ref = parseRequestId(options.request);
    if (!ref) throw new RequestError("request_not_found", `"${options.request}" is not a request id`);
    if (threadId !== undefined && threadId !== ref.threadId) {
      throw invalidFlag(`request ${options.request} belongs to thread ${ref.threadId}, not ${threadId}`);
    }
    threadId = ref.threadId;
  }
  if (threadId !== undefined) {
    await importLegacyThread(store, io.cwd, threadId);
    const thread = await store.load(threadId);
    if (thread.agent !== agent.name) {
      throw new TwelveError(
        "agent_mismatch",
        `thread ${thread.id} belongs to agent "${thread.agent}", not "${agent.name}" (${agentPath})`,
      );
    }
  }

  let current: RuntimeResult;
  if (options.request) {
    const request = await rt.request(options.request);
    current = await rt.answer(flagAnswer(request, options, options.digest, by));
  } else if (threadId !== undefined) {
    current =
      message !== undefined
        ? await rt.send(threadId, { type: "user_message", data: message, meta: { by } })
        : await rt.continue(threadId);
  } else {
    current = await rt.start(agent, message as string, { by });
  }

  // checkFlags refused --yes / --stdin where a request pending before this invocation could reach them,
  // so every request they see here was raised (and printed) by this invocation.
  const decide = deciders(options, io, by);
  for (;;) {
    const { thread, state, request } = current;
    if (state.status === "done") {
      out.line(`done · thread ${thread.id} · ${thread.events.length} events`);
      return EXIT.done;
    }
    if (state.status === "failed") {
      out.line(`failed (${state.reason}) · thread ${thread.id}`);
      return EXIT.failed;
    }
    if (request) out.line(describeRequest(request));
    let answer: Answer | undefined;
    try {
      answer = request ? await decide?.(request) : undefined;
    } catch (error) {
      if (!request || !isPromptExit(error)) throw error;
      // Ctrl-C at a prompt: nothing was answered; the thread stays paused and resumable.
      out.line(`paused: ${state.status} · thread ${thread.id}`);
      out.line(`${request.kind === "uncertain" ? "decide" : "resume"} with: ${resumeHint(hint, request)}`);
      throw new TwelveError(
        "interrupted",
        `interrupted at the prompt; thread ${thread.id} is still ${state.status} and resumes with --thread ${thread.id}`,
        { threadId: thread.id },
      );
    }
    if (!request || !answer) {
      out.line(`paused: ${state.status} · thread ${thread.id}`);
      if (request) out.line(`${request.kind === "uncertain" ? "decide" : "resume"} with: ${resumeHint(hint, request)}`);
      return EXIT.paused;
    }
    current = await rt.answer(answer);
  }
}

/** --yes, --stdin or the terminal: who answers the requests this invocation raises. */
function deciders(options: RunCommandOptions, io: CliIO, by: By): Decide | undefined {
  if (options.stdin) return stdinAnswers(by);
  if (options.yes) return yesAnswers(by);
  // Prompts bind to the request they display, so they may answer any request, raised here or before.
  if (io.interactive && options.input !== false) return terminalAnswers(by);
  return undefined;
}

export function describeRequest(request: HumanRequest): string {
  const args = JSON.stringify(request.args ?? {});
  switch (request.kind) {
    case "approval":
      return `request ${request.id}: approve ${request.intent} ${args}? (digest ${request.argsDigest})`;
    case "question":
      return `request ${request.id}: question: ${request.question?.text ?? ""}${
        request.question?.choices ? ` [${request.question.choices.join(" | ")}]` : ""
      }`;
    case "async":
      return `request ${request.id}: waiting for ${request.resultType}`;
    case "uncertain":
      return `⚠ request ${request.id}: ${request.intent} ${args} may or may not have run: it started and no result was recorded (the process stopped). Check before deciding. (digest ${request.argsDigest})`;
  }
}

function resumeHint(hint: { agentPath: string; model?: string; store?: string }, request: HumanRequest): string {
  const quote = (s: string) => (/^[\w./:@%+=,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
  let base = `twelve run ${quote(hint.agentPath)}`;
  if (hint.model) base += ` --model ${quote(hint.model)}`;
  if (hint.store) base += ` --store ${quote(hint.store)}`;
  base += ` --request ${request.id}`;
  if (request.argsDigest) base += ` --digest ${request.argsDigest}`;
  switch (request.kind) {
    case "approval":
      return `${base} --approve | --reject "<feedback>" | --edit '<json>'`;
    case "question":
      return `${base} --answer "<text>"`;
    case "async":
      return `${base} --result '<json>'`;
    case "uncertain":
      return `${base} --mark-done ['<result json>'] | --run-again | --abandon "<reason>"`;
  }
}

export type { Agent };
