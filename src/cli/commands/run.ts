import { existsSync } from "node:fs";
import type { Agent } from "../../agent/agent.js";
import { userMessage } from "../../agent/events.js";
import { acceptEvent, resume } from "../../agent/resume.js";
import { run } from "../../agent/run.js";
import { TwelveError } from "../../errors/index.js";
import { resolveModel } from "../../model/resolve.js";
import { ThreadNotFoundError } from "../../store/errors.js";
import { openStore } from "../../store/open.js";
import { storeCommit } from "../../store/runner.js";
import type { ThreadStore } from "../../store/types.js";
import { defaultRuntime, makeEvent } from "../../thread/event.js";
import { type PendingRequest, threadState } from "../../thread/status.js";
import { appendEvents, createThread, type Thread } from "../../thread/thread.js";
import { type AnswerFlags, chain, type Decide, flagAnswers, stdinAnswers, terminalAnswers } from "../answers.js";
import { loadAgent } from "../load-agent.js";
import { printer } from "../print.js";
import { threadFiles } from "../thread-files.js";

export interface RunCommandOptions extends AnswerFlags {
  model?: string;
  thread?: string;
  stdin?: boolean;
  input?: boolean;
  /** Thread store: SQLite file, sqlite:<path> or postgres:// URL. Default $TWELVE_STORE, else .twelve/twelve.db. */
  store?: string;
}

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  env: NodeJS.ProcessEnv;
  interactive: boolean;
  color: boolean;
}

/** Exit codes: 0 done, 1 the thread failed, 2 bad input, 3 paused awaiting an answer. */
export const EXIT = { done: 0, failed: 1, usage: 2, paused: 3 } as const;

export async function runCommand(
  agentPath: string,
  message: string | undefined,
  options: RunCommandOptions,
  io: CliIO,
): Promise<number> {
  const agent = await loadAgent(agentPath, io.cwd);
  const store = await openStore(options.store ?? io.env.TWELVE_STORE, { cwd: io.cwd });
  try {
    return await runWithStore(agent, agentPath, message, options, io, store);
  } finally {
    await store.close();
  }
}

/** Threads saved as `.twelve/threads/<id>.json` by earlier versions move into the store on first resume. */
async function loadThread(store: ThreadStore, cwd: string, id: string): Promise<Thread> {
  const stored = await store.get(id);
  if (stored) return stored;
  const files = threadFiles(cwd);
  if (!existsSync(files.pathOf(id))) throw new ThreadNotFoundError(id);
  return store.create(await files.load(id));
}

async function runWithStore(
  agent: Agent,
  agentPath: string,
  message: string | undefined,
  options: RunCommandOptions,
  io: CliIO,
  store: ThreadStore,
): Promise<number> {
  const out = printer(io.stdout, io.color);
  const runtime = defaultRuntime;

  let thread: Thread;
  if (options.thread) {
    thread = await loadThread(store, io.cwd, options.thread);
    if (thread.agent !== agent.name) {
      throw new TwelveError(
        "agent_mismatch",
        `thread ${thread.id} belongs to agent "${thread.agent}", not "${agent.name}" (${agentPath})`,
      );
    }
    if (message !== undefined) {
      const event = acceptEvent(agent, thread, userMessage(message), { runtime });
      await store.append(thread.id, [event], { expectedVersion: thread.version });
      thread = appendEvents(thread, [event]);
      out.event(event);
    }
  } else {
    if (message === undefined || message.trim() === "") {
      throw new TwelveError("invalid_flag", "give a message to start a thread, or --thread <id> to resume one");
    }
    const first = makeEvent(runtime, "user_message", message);
    thread = createThread(agent.name, [first], { runtime });
    await store.create(thread);
    out.line(`thread ${thread.id}`);
    out.event(first);
  }

  const model = await resolveModel(options.model, { env: io.env });
  // An embedded model downloads and loads here, with its progress bar, before the first step.
  const loadable = model as { load?: () => Promise<unknown> };
  if (typeof loadable.load === "function") await loadable.load();
  const decide: Decide = chain(
    flagAnswers(options),
    ...(options.stdin ? [stdinAnswers()] : io.interactive && options.input !== false ? [terminalAnswers()] : []),
  );
  const runOptions = {
    model,
    runtime,
    commit: storeCommit(store),
    onEvent: (e: Parameters<typeof out.event>[0]) => out.event(e),
  };

  thread = await run(agent, thread, runOptions);
  for (;;) {
    const state = threadState(thread);
    if (state.status === "done") {
      out.line(`done · thread ${thread.id} · ${thread.events.length} events`);
      return EXIT.done;
    }
    if (state.status === "failed") {
      out.line(`failed (${state.reason}) · thread ${thread.id}`);
      return EXIT.failed;
    }
    const pending = state.pending;
    const answer = pending ? await decide(pending) : undefined;
    if (!pending || !answer) {
      out.line(`paused: ${state.status} · thread ${thread.id}`);
      if (pending) out.line(`resume with: ${resumeHint(agentPath, thread.id, pending)}`);
      return EXIT.paused;
    }
    thread = await resume(agent, thread, answer, runOptions);
  }
}

function resumeHint(agentPath: string, id: string, pending: PendingRequest): string {
  const base = `twelve run ${agentPath} --thread ${id}`;
  switch (pending.kind) {
    case "approval":
    case "uncertain_execution":
      return `${base} --approve | --reject "<feedback>" | --edit '<json>'`;
    case "human_input":
      return `${base} --answer "<text>"`;
    case "external_result":
      return `append a ${pending.resultType} event (e.g. through the server)`;
  }
}

export type { Agent };
