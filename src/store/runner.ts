import type { Agent, NewEvent } from "../agent/agent.js";
import { acceptEvent } from "../agent/resume.js";
import { type RunOptions, run } from "../agent/run.js";
import { TwelveError } from "../errors/index.js";
import { defaultRuntime, type Event, makeEvent } from "../thread/event.js";
import { threadState } from "../thread/status.js";
import { appendEvents, createThread, type Thread } from "../thread/thread.js";
import { LeaseHeldError, LeaseLostError, VersionConflictError } from "./errors.js";
import { DEFAULT_LEASE_TTL_MS, type Lease, type ThreadStore } from "./types.js";

/**
 * The agent loop's `commit` hook backed by a store: every batch of events is
 * appended at the version it was based on, before the loop does anything
 * with side effects. A stale version throws VersionConflictError, which
 * stops the loop: someone else moved the thread on. The loop's `durable`
 * flag goes to the store (default true when a caller leaves it out).
 */
export function storeCommit(
  store: ThreadStore,
): (thread: Thread, added: Event[], durable?: boolean) => Promise<Thread> {
  return async (thread: Thread, added: Event[], durable = true) => {
    if (added.length === 0) return thread;
    const result = await store.append(thread.id, added, { expectedVersion: thread.version - added.length, durable });
    return result.version === thread.version ? thread : store.load(thread.id);
  };
}

export interface StoredRunOptions extends Omit<RunOptions, "commit"> {
  /** Names this runner in lease errors; default a random id. */
  owner?: string;
  /** Lease length, renewed in the background while the loop runs. Default 30 s. */
  leaseTtlMs?: number;
  /** How long to wait for another runner's lease before giving up with LeaseHeldError. Default 0 (resumeStored: 10 s). */
  leaseWaitMs?: number;
}

/** A resume answered a request that another resume (or a person) already answered. */
export class AlreadyAnsweredError extends TwelveError {
  constructor(threadId: string, message: string, details: Record<string, unknown> = {}) {
    super("already_answered", `thread ${threadId}: ${message}`, { threadId, ...details });
    this.name = "AlreadyAnsweredError";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function acquire(store: ThreadStore, threadId: string, options: StoredRunOptions): Promise<Lease> {
  const deadline = Date.now() + (options.leaseWaitMs ?? 0);
  const owner = options.owner ?? `runner_${globalThis.crypto.randomUUID().slice(0, 8)}`;
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.acquireLease(threadId, { owner, ttlMs: options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS });
    } catch (error) {
      if (!(error instanceof LeaseHeldError) || Date.now() >= deadline) throw error;
      // Jittered backoff so many waiting resumes do not retry in lockstep.
      await sleep(Math.min(200, 10 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
    }
  }
}

/**
 * Holds a thread's lease for the duration of `fn`, renewing it in the
 * background. If the lease is lost (this process stalled past the TTL and
 * another runner took over) the signal passed to `fn` aborts.
 */
export async function withLease<T>(
  store: ThreadStore,
  threadId: string,
  options: StoredRunOptions,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let lease = await acquire(store, threadId, options);
  const ttl = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const lost = new AbortController();
  const timer = setInterval(
    () => {
      store.renewLease(lease, ttl).then(
        (renewed) => {
          lease = renewed;
        },
        (error) => lost.abort(error instanceof LeaseLostError ? error : new LeaseLostError(threadId, lease.owner)),
      );
    },
    Math.max(10, Math.floor(ttl / 3)),
  );
  timer.unref?.();
  const signal = options.signal ? AbortSignal.any([options.signal, lost.signal]) : lost.signal;
  try {
    return await fn(signal);
  } finally {
    clearInterval(timer);
    await store.releaseLease(lease).catch(() => {});
  }
}

/** Takes the lease, loads the thread and runs it until it is not runnable; every event is committed to the store. */
export async function runStored(
  store: ThreadStore,
  agent: Agent,
  threadId: string,
  options: StoredRunOptions,
): Promise<Thread> {
  return withLease(store, threadId, options, async (signal) => {
    const thread = await store.load(threadId);
    return run(agent, thread, { ...options, signal, commit: storeCommit(store) });
  });
}

/** Creates a thread from a first event (e.g. a user message) in the store and runs it. */
export async function startStored(
  store: ThreadStore,
  agent: Agent,
  first: NewEvent | string,
  options: StoredRunOptions & { threadId?: string },
): Promise<Thread> {
  const runtime = options.runtime ?? defaultRuntime;
  const event =
    typeof first === "string"
      ? makeEvent(runtime, "user_message", first)
      : makeEvent(runtime, first.type, first.data ?? null, first.meta);
  const thread = createThread(agent.name, [event], options.threadId ? { id: options.threadId, runtime } : { runtime });
  await store.create(thread);
  return runStored(store, agent, thread.id, options);
}

export interface ResumeStoredResult {
  thread: Thread;
  /** The incoming event's idempotency key was seen before: nothing was appended or run. */
  duplicate: boolean;
}

/**
 * Resume from any process (factor 6) with exactly-once answers: under the
 * thread's lease, check the answer against what the thread awaits, append it
 * durably (with its idempotency key), then run. Of several concurrent
 * answers to one request exactly one is appended; the others get
 * AlreadyAnsweredError (or LeaseHeldError if they gave up waiting), and a
 * repeated delivery with the same `meta.idempotencyKey` returns `duplicate`.
 *
 * Put the id of the step being answered in `incoming.meta.stepId` (the
 * approval button knows it) so a late answer is recognised as already
 * answered rather than applied to whatever the thread awaits next.
 */
export async function resumeStored(
  store: ThreadStore,
  agent: Agent,
  threadId: string,
  incoming: NewEvent,
  options: StoredRunOptions,
): Promise<ResumeStoredResult> {
  const waitOptions = { ...options, leaseWaitMs: options.leaseWaitMs ?? 10_000 };
  return withLease(store, threadId, waitOptions, async (signal) => {
    const thread = await store.load(threadId);
    const key = incoming.meta?.idempotencyKey;
    if (key !== undefined && thread.events.some((e) => e.meta?.idempotencyKey === key)) {
      return { thread, duplicate: true };
    }
    checkNotAnswered(thread, incoming);
    const event = acceptEvent(agent, thread, incoming, options);
    let result: Awaited<ReturnType<ThreadStore["append"]>>;
    try {
      result = await store.append(threadId, [event], {
        expectedVersion: thread.version,
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      });
    } catch (error) {
      // Only a writer that ignores leases can get here; its answer came first.
      if (error instanceof VersionConflictError) {
        throw new AlreadyAnsweredError(threadId, "the thread changed while this answer was being recorded", {
          expectedVersion: error.expectedVersion,
          actualVersion: error.actualVersion,
        });
      }
      throw error;
    }
    if (result.duplicate) return { thread: await store.load(threadId), duplicate: true };
    const stored = appendEvents(thread, [event]);
    options.onEvent?.(event, stored);
    const ran = await run(agent, stored, { ...options, signal, commit: storeCommit(store) });
    return { thread: ran, duplicate: false };
  });
}

const ANSWER_TYPES = new Set(["approval", "human_response"]);

/** A request answered before (same step id) → AlreadyAnsweredError naming the first answer. */
function checkNotAnswered(thread: Thread, incoming: NewEvent): void {
  const stepId = incoming.meta?.stepId;
  const pending = threadState(thread).pending;
  if (typeof stepId !== "string") {
    if (!pending && ANSWER_TYPES.has(incoming.type)) {
      const last = [...thread.events].reverse().find((e) => ANSWER_TYPES.has(e.type) || e.meta?.kind === "result");
      if (last) {
        throw new AlreadyAnsweredError(
          thread.id,
          `nothing is awaited any more; the last answer was ${last.type} ${last.id}`,
          {
            answerId: last.id,
            status: threadState(thread).status,
          },
        );
      }
    }
    return;
  }
  if (pending?.stepId === stepId) {
    // After a crash the same step awaits a decision; an approval from before the crash
    // (a late duplicate) must not count as "run it again". That needs meta.startedId.
    if (pending.kind === "uncertain_execution" && incoming.type === "approval") {
      const earlier = thread.events.find((e) => e.type === "approval" && e.meta?.stepId === stepId);
      if (earlier && incoming.meta?.startedId !== pending.startedId) {
        throw new AlreadyAnsweredError(
          thread.id,
          `step ${stepId} was approved before (${earlier.id}) and may or may not have run; to run it again, answer with meta.startedId "${pending.startedId}"`,
          { stepId, answerId: earlier.id, startedId: pending.startedId },
        );
      }
    }
    return;
  }
  const answer = thread.events.find(
    (e) => e.meta?.stepId === stepId && (ANSWER_TYPES.has(e.type) || e.meta?.kind === "result"),
  );
  if (answer) {
    throw new AlreadyAnsweredError(thread.id, `step ${stepId} was already answered by ${answer.type} ${answer.id}`, {
      stepId,
      answerId: answer.id,
    });
  }
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
  for (const id of ids.slice(0, options.limit)) {
    try {
      const summary = await store.summary(id);
      await runStored(store, byName.get(summary.agent) as Agent, id, { ...options, leaseWaitMs: 0 });
      result.ran.push(id);
    } catch (error) {
      if (error instanceof LeaseHeldError) result.busy.push(id);
      else result.failed.push({ threadId: id, error });
    }
  }
  return result;
}
