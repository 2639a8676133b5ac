import type { Agent, NewEvent } from "../agent/agent.js";
import { isAnswer } from "../agent/answer.js";
import type { RunOptions } from "../agent/run.js";
import { RequestError } from "../errors/index.js";
import { LeaseHeldError } from "../store/errors.js";
import type { ThreadStore } from "../store/types.js";
import { type Answer, parseRequestId } from "../thread/request.js";
import type { Thread } from "../thread/thread.js";
import type { RunnerLeaseOptions } from "./lease.js";
import { type AgentRuntime, createRuntime } from "./runtime.js";

export interface StoredRunOptions extends Omit<RunOptions, "commit">, RunnerLeaseOptions {}

function runtimeFor(
  store: ThreadStore,
  agents: Agent | readonly Agent[],
  options: StoredRunOptions,
  waitMs: number,
): AgentRuntime {
  return createRuntime({
    store,
    agents,
    model: options.model,
    answerWaitMs: waitMs,
    ...(options.owner !== undefined && { owner: options.owner }),
    ...(options.leaseTtlMs !== undefined && { leaseTtlMs: options.leaseTtlMs }),
    ...(options.signal && { signal: options.signal }),
    ...(options.runtime && { clock: options.runtime }),
    ...(options.output && { output: options.output }),
    ...(options.maxSteps && { maxSteps: options.maxSteps }),
    ...(options.onEvent && { onEvent: options.onEvent }),
    ...(options.onText && { onText: options.onText }),
    ...(options.onPartial && { onPartial: options.onPartial }),
  });
}

/**
 * Takes the lease, loads the thread and runs it until it is not runnable.
 * @deprecated use `createRuntime({store, agents, model}).continue(threadId)`.
 */
export async function runStored(
  store: ThreadStore,
  agent: Agent,
  threadId: string,
  options: StoredRunOptions,
): Promise<Thread> {
  return (await runtimeFor(store, agent, options, options.leaseWaitMs ?? 0).continue(threadId)).thread;
}

/**
 * Creates a thread from a first event in the store and runs it.
 * @deprecated use `createRuntime({store, agents, model}).start(agent, first)`.
 */
export async function startStored(
  store: ThreadStore,
  agent: Agent,
  first: NewEvent | string,
  options: StoredRunOptions & { threadId?: string },
): Promise<Thread> {
  const rt = runtimeFor(store, agent, options, options.leaseWaitMs ?? 10_000);
  return (await rt.start(agent, first, options.threadId !== undefined ? { threadId: options.threadId } : {})).thread;
}

export interface ResumeStoredResult {
  thread: Thread;
  /** The idempotency key was seen before: nothing was appended or run. */
  duplicate: boolean;
}

/**
 * Answers a request of a stored thread (or sends it a trigger event) and runs it.
 * An answer must name its request (`approve(request)`), exactly as
 * `runtime.answer` requires; a raw approval or response event is refused.
 * @deprecated use `createRuntime({store, agents, model}).answer(answer)` / `.send(threadId, event)`.
 */
export async function resumeStored(
  store: ThreadStore,
  agent: Agent,
  threadId: string,
  incoming: Answer | NewEvent,
  options: StoredRunOptions,
): Promise<ResumeStoredResult> {
  const rt = runtimeFor(store, agent, options, options.leaseWaitMs ?? 10_000);
  if (!isAnswer(incoming)) {
    const { thread, duplicate } = await rt.send(threadId, incoming);
    return { thread, duplicate };
  }
  const ref = incoming.requestId === undefined ? undefined : parseRequestId(incoming.requestId);
  if (ref && ref.threadId !== threadId) {
    throw new RequestError(
      "request_not_found",
      `request ${incoming.requestId} belongs to thread ${ref.threadId}, not ${threadId}`,
      {
        requestId: incoming.requestId,
        threadId,
      },
    );
  }
  const { thread, duplicate } = await rt.answer(incoming);
  return { thread, duplicate };
}

export interface SweepResult {
  /** Threads this sweep ran (to a pause or the end). */
  ran: string[];
  /** Threads another runner holds right now; the next sweep picks them up if that runner died. */
  busy: string[];
  /** Threads that failed to run, with the error (e.g. an agent this process does not know). */
  failed: { threadId: string; error: unknown }[];
}

/**
 * Continues every `running` thread of the given agents: what a worker does
 * on start-up and then periodically, so threads a crashed process left
 * behind are picked up once its leases expire. Threads under a live lease
 * are skipped, not waited for.
 */
export async function sweepRunnable(
  store: ThreadStore,
  agents: readonly Agent[],
  options: StoredRunOptions & { limit?: number },
): Promise<SweepResult> {
  const byName = new Map(agents.map((a) => [a.name, a]));
  const result: SweepResult = { ran: [], busy: [], failed: [] };
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ status: "running", limit: 500, ...(cursor ? { cursor } : {}) });
    for (const s of page.threads) if (byName.has(s.agent)) ids.push(s.id);
    cursor = page.nextCursor;
  } while (cursor && ids.length < (options.limit ?? Number.POSITIVE_INFINITY));
  const rt = runtimeFor(store, agents, options, 0);
  for (const id of ids.slice(0, options.limit)) {
    try {
      await rt.continue(id);
      result.ran.push(id);
    } catch (error) {
      if (error instanceof LeaseHeldError) result.busy.push(id);
      else result.failed.push({ threadId: id, error });
    }
  }
  return result;
}
