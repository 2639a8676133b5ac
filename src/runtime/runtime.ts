import type { Agent, NewEvent } from "../agent/agent.js";
import { acceptAnswer } from "../agent/answer.js";
import { acceptEvent } from "../agent/resume.js";
import { run } from "../agent/run.js";
import type { CommitHook, StepOptions } from "../agent/step.js";
import { RequestError, TwelveError } from "../errors/index.js";
import type { Model, OutputMode } from "../model/types.js";
import { LeaseHeldError, ThreadNotFoundError, VersionConflictError } from "../store/errors.js";
import { type OutboxEndpoint, withOutbox } from "../store/outbox.js";
import type { ThreadStore } from "../store/types.js";
import { ANSWER_EVENT_TYPES, intentOfResult } from "../thread/builtin.js";
import { type By, type Clock, defaultClock, type Event, makeEvent } from "../thread/event.js";
import { digestOf } from "../thread/json-safe.js";
import { type Answer, type HumanRequest, humanRequest, parseRequestId } from "../thread/request.js";
import { type ThreadState, threadState } from "../thread/status.js";
import { createThread, type Thread } from "../thread/thread.js";
import { type CancelOptions, cancelThread, runCancellable } from "./cancel.js";
import { type AppendOverResult, appendOver, storeCommit } from "./commit.js";
import { type RunnerLeaseOptions, withLease } from "./lease.js";
import { listRequests, type RequestFilter, type RequestPage } from "./requests.js";
import { checkResponder } from "./responders.js";

export interface RuntimeOptions extends RunnerLeaseOptions {
  store: ThreadStore;
  /** The agents this runtime may run, by name. */
  agents: Agent | readonly Agent[];
  /** The model, or a function choosing one per agent. */
  model: Model | ((agent: Agent) => Model | Promise<Model>);
  clock?: Clock;
  output?: OutputMode;
  /** Step budget per run, overriding the agents'. */
  maxSteps?: number;
  /** How long an answer or a start waits for another runner's lease. Default 10 s. */
  answerWaitMs?: number;
  onEvent?: StepOptions["onEvent"];
  onText?: StepOptions["onText"];
  onPartial?: StepOptions["onPartial"];
  /**
   * Webhook endpoints: every append this runtime makes writes their outbox
   * rows in its own transaction (`withOutbox`); a dispatcher sends them.
   */
  outbox?: { endpoints: readonly OutboxEndpoint[] };
}

/** What every runtime call returns: the thread as stored, its state, and the request it waits on now. */
export interface RuntimeResult {
  thread: Thread;
  state: ThreadState;
  /** The request the thread waits on after this call, if it paused for a human. */
  request?: HumanRequest;
  /** The call's idempotency key was seen before: nothing was appended or run. */
  duplicate: boolean;
}

export interface StartOptions {
  threadId?: string;
  by?: By;
  /**
   * Starts at most one thread per key (an `Idempotency-Key` header, a Slack
   * event id): a repeat returns the thread the key started, as it is now,
   * with `duplicate: true`, and runs nothing (unless that thread is still
   * `running` with nobody on it, e.g. after a crash: then it is continued).
   * A repeat with another agent or first event fails with
   * IdempotencyConflictError. `scope` defaults to `launch:<agent name>`.
   * Keys live until the store's `pruneIdempotency` removes them.
   */
  idempotency?: { scope?: string; key: string };
}

/**
 * The one way in (factor 6, 11): start, answer and continue threads in a
 * store, under the thread's lease, with idempotency keys, the request check
 * and the responder check. The CLI, the server, channels, triggers and
 * workers all call this; none of them appends to a store or runs the loop
 * themselves.
 */
export interface AgentRuntime {
  readonly store: ThreadStore;
  agent(name: string): Agent;
  /** Creates a thread from a first event (a string is a user message) and runs it until it pauses or ends. */
  start(agent: Agent | string, first: string | NewEvent, options?: StartOptions): Promise<RuntimeResult>;
  /**
   * Answers a human request, named by its id (which also names the thread),
   * and runs the thread on. Fails closed with `already_answered`,
   * `request_changed`, `invalid_decision`, `request_not_found`,
   * `request_required` or `responder_refused`, running nothing.
   */
  answer(answer: Answer): Promise<RuntimeResult>;
  /** Runs a thread that is `running` (after a crash, or a sweep); a paused or finished thread is returned as it is. */
  continue(threadId: string): Promise<RuntimeResult>;
  /**
   * Appends a trigger event (e.g. a new user message to a finished thread)
   * and runs. Answers to requests are refused here: they go through `answer`.
   */
  send(threadId: string, event: NewEvent): Promise<RuntimeResult>;
  /** The request with this id if it is still pending; otherwise throws what `answer` would (already_answered, …). */
  request(requestId: string): Promise<HumanRequest>;
  /** Pending requests across threads (what waits for a human), from the store's indexes. */
  requests(filter?: RequestFilter): Promise<RequestPage>;
  /**
   * Cancels a thread at a step boundary (docs/runtime.md, "Cancel"): a
   * `cancelled` event now, or, while a handler runs or an `uncertain`
   * request waits, a request the loop honours at its next boundary
   * (`cancelRequested`). A finished thread comes back as it is.
   */
  cancel(threadId: string, options?: CancelOptions): Promise<RuntimeResult & { cancelRequested: boolean }>;
}

export function createRuntime(options: RuntimeOptions): AgentRuntime {
  const store = options.outbox ? withOutbox(options.store, options.outbox) : options.store;
  const agents = new Map((Array.isArray(options.agents) ? options.agents : [options.agents]).map((a) => [a.name, a]));
  const clock = options.clock ?? defaultClock;
  const answerWait = options.answerWaitMs ?? 10_000;

  const agentNamed = (name: string): Agent => {
    const agent = agents.get(name);
    if (!agent) {
      throw new TwelveError(
        "agent_not_found",
        `this runtime has no agent "${name}" (it has: ${[...agents.keys()].join(", ")})`,
        {
          agent: name,
        },
      );
    }
    return agent;
  };
  const modelFor = async (agent: Agent): Promise<Model> =>
    typeof options.model === "function" ? options.model(agent) : options.model;
  const result = (thread: Thread, duplicate = false): RuntimeResult => {
    const request = humanRequest(thread);
    return { thread, state: threadState(thread), ...(request && { request }), duplicate };
  };
  const lease = (threadId: string, waitMs: number, fn: (signal: AbortSignal) => Promise<Thread>) =>
    withLease(store, threadId, { ...options, leaseWaitMs: waitMs }, fn);
  const runLoop = async (agent: Agent, thread: Thread, signal: AbortSignal): Promise<Thread> => {
    const model = await modelFor(agent);
    return runCancellable(store, clock, thread, storeCommit(store), options.onEvent, (current, commit) =>
      runOnce(agent, current, model, commit, signal),
    );
  };
  const runOnce = (agent: Agent, thread: Thread, model: Model, commit: CommitHook, signal: AbortSignal) =>
    run(agent, thread, {
      model,
      runtime: clock,
      commit,
      signal,
      ...(options.output && { output: options.output }),
      ...(options.maxSteps && { maxSteps: options.maxSteps }),
      ...(options.onEvent && { onEvent: options.onEvent }),
      ...(options.onText && { onText: options.onText }),
      ...(options.onPartial && { onPartial: options.onPartial }),
    });
  const loadAgentThread = async (threadId: string): Promise<{ agent: Agent; thread: Thread }> => {
    const thread = await store.load(threadId);
    return { agent: agentNamed(thread.agent), thread };
  };

  /** Appends one checked event; only a writer that ignored the lease (not an annotation) can have come first. */
  const appendChecked = async (thread: Thread, event: Event, key?: string): Promise<Thread | undefined> => {
    let appended: AppendOverResult;
    try {
      appended = await appendOver(store, thread, [event], key !== undefined ? { idempotencyKey: key } : {});
    } catch (error) {
      if (error instanceof VersionConflictError) {
        throw new RequestError(
          "already_answered",
          `thread ${thread.id}: already answered — the thread changed while this answer was being recorded`,
          {
            threadId: thread.id,
            expectedVersion: error.expectedVersion,
            actualVersion: error.actualVersion,
          },
        );
      }
      throw error;
    }
    if (appended.duplicate) return undefined;
    options.onEvent?.(event, appended.thread);
    return appended.thread;
  };

  const runtime: AgentRuntime = {
    store,
    agent: agentNamed,

    async start(agentOrName, first, startOptions = {}) {
      const agent = agentNamed(typeof agentOrName === "string" ? agentOrName : agentOrName.name);
      const incoming: NewEvent = typeof first === "string" ? { type: "user_message", data: first } : first;
      const meta = { ...(incoming.meta ?? {}), ...(startOptions.by && { by: startOptions.by }) };
      const event = makeEvent(clock, incoming.type, incoming.data ?? null, meta);
      const fresh = createThread(agent.name, [event], {
        runtime: clock,
        ...(startOptions.threadId !== undefined && { id: startOptions.threadId }),
      });
      const idem = startOptions.idempotency;
      if (idem) {
        const once = await store.createOnce(fresh, {
          scope: idem.scope ?? `launch:${agent.name}`,
          key: idem.key,
          bodyHash: digestOf({ agent: agent.name, first: incoming }),
        });
        if (!once.created) {
          if (threadState(once.thread).status !== "running") return result(once.thread, true);
          try {
            return result(
              await lease(once.thread.id, 0, async (signal) =>
                runLoop(agent, await store.load(once.thread.id), signal),
              ),
              true,
            );
          } catch (error) {
            // Another runner (likely the first call) is on it: report it as it is now.
            if (error instanceof LeaseHeldError) return result(await store.load(once.thread.id), true);
            throw error;
          }
        }
      } else await store.create(fresh);
      options.onEvent?.(event, fresh);
      const thread = await lease(fresh.id, answerWait, async (signal) =>
        runLoop(agent, await store.load(fresh.id), signal),
      );
      return result(thread);
    },

    async answer(answer) {
      const ref = answer.requestId === undefined ? undefined : parseRequestId(answer.requestId);
      if (answer.requestId === undefined) {
        throw new RequestError("request_required", "an answer must name the request it answers (requestId)");
      }
      if (!ref) {
        throw new RequestError("request_not_found", `"${String(answer.requestId)}" is not a request id`, {
          requestId: answer.requestId,
        });
      }
      const check = (agent: Agent, thread: Thread) =>
        acceptAnswer(agent, thread, answer, { clock, requireId: true, requireDigest: true });
      let outcome: { thread: Thread; duplicate: boolean };
      try {
        outcome = await withLease(store, ref.threadId, { ...options, leaseWaitMs: answerWait }, async (signal) => {
          const { agent, thread } = await loadAgentThread(ref.threadId);
          const key = answer.idempotencyKey;
          if (key !== undefined && thread.events.some((e) => e.meta?.idempotencyKey === key)) {
            return { thread, duplicate: true };
          }
          const { event, request } = check(agent, thread);
          await checkResponder(agent, request, answer.by);
          const stored = await appendChecked(thread, event, key);
          if (!stored) return { thread: await store.load(thread.id), duplicate: true };
          return { thread: await runLoop(agent, stored, signal), duplicate: false };
        });
      } catch (error) {
        if (error instanceof ThreadNotFoundError) {
          throw new RequestError("request_not_found", `request ${answer.requestId}: no thread ${ref.threadId}`, {
            requestId: answer.requestId,
          });
        }
        // Still busy after the wait: if the request was answered meanwhile, say so (that is final);
        // otherwise the lease error stands (retry later).
        if (error instanceof LeaseHeldError) {
          const { agent, thread } = await loadAgentThread(ref.threadId);
          check(agent, thread);
        }
        throw error;
      }
      return result(outcome.thread, outcome.duplicate);
    },

    async continue(threadId) {
      const thread = await lease(threadId, answerWait, async (signal) => {
        const loaded = await loadAgentThread(threadId);
        return runLoop(loaded.agent, loaded.thread, signal);
      });
      return result(thread);
    },

    async send(threadId, incoming) {
      let duplicate = false;
      const thread = await lease(threadId, answerWait, async (signal) => {
        const { agent, thread } = await loadAgentThread(threadId);
        const key = incoming?.meta?.idempotencyKey;
        if (key !== undefined && thread.events.some((e) => e.meta?.idempotencyKey === key)) {
          duplicate = true;
          return thread;
        }
        const request = humanRequest(thread);
        if (
          request ||
          ANSWER_EVENT_TYPES.has(incoming?.type) ||
          (typeof incoming?.type === "string" && intentOfResult(incoming.type) !== undefined)
        ) {
          throw new RequestError(
            "request_required",
            request
              ? `thread ${threadId} waits on request ${request.id} (${request.kind}); answer it with answer(), naming the request`
              : `"${incoming?.type}" answers a request; use answer(), naming the request`,
            { threadId, pending: request?.id ?? null },
          );
        }
        const event = acceptEvent(agent, thread, incoming, { runtime: clock });
        const stored = await appendChecked(thread, event, key);
        if (!stored) {
          duplicate = true;
          return store.load(threadId);
        }
        return runLoop(agent, stored, signal);
      });
      return result(thread, duplicate);
    },

    async request(requestId) {
      const ref = parseRequestId(requestId);
      if (!ref) throw new RequestError("request_not_found", `"${requestId}" is not a request id`, { requestId });
      const thread = await store.get(ref.threadId);
      if (!thread) throw new RequestError("request_not_found", `request ${requestId}: no thread ${ref.threadId}`);
      const current = humanRequest(thread);
      if (current?.id === requestId) return current;
      // Not pending: reuse the answer check to say why (already answered, or unknown).
      acceptAnswer(agentNamed(thread.agent), thread, { decision: "run_again", requestId }, { requireId: true });
      throw new RequestError("request_not_found", `request ${requestId} is not pending`, { requestId });
    },

    requests: (filter) => listRequests(store, filter),

    async cancel(threadId, cancelOptions = {}) {
      const done = await cancelThread(
        {
          store,
          clock,
          lease: (id, waitMs, fn) => withLease(store, id, { ...options, leaseWaitMs: waitMs }, fn),
          waitMs: Math.min(answerWait, 1000),
          ...(options.onEvent && { onEvent: options.onEvent }),
        },
        threadId,
        cancelOptions,
      );
      return { ...result(done.thread, done.duplicate), cancelRequested: done.cancelRequested };
    },
  };
  return runtime;
}
