import type { CommitHook } from "../agent/step.js";
import { LeaseHeldError, VersionConflictError } from "../store/errors.js";
import type { ThreadStore } from "../store/types.js";
import { type By, type Clock, type Event, makeEvent } from "../thread/event.js";
import { isAnnotation, threadState } from "../thread/status.js";
import type { Thread } from "../thread/thread.js";
import { appendOver } from "./commit.js";

/** The terminal event a cancel appends; the derived status becomes `cancelled`. */
export const CANCELLED = "cancelled";
/** The annotation a cancel leaves while a handler runs (or a `_started` marker waits): honoured at the next step boundary. */
export const CANCEL_REQUESTED = "cancel_requested";

export interface CancelOptions {
  /** Who cancels (`{id, via}`), kept in the events' meta. */
  by?: By;
  /** A repeated cancel with this key changes nothing and reports `duplicate`. */
  idempotencyKey?: string;
  /** Kept in the `cancelled` event's data (default "cancelled"). */
  reason?: string;
}

/**
 * The cancel request a thread still owes: a `cancel_requested` annotation
 * after the last `cancelled` event. A thread restarted by a new message after
 * it was cancelled owes nothing.
 */
export function pendingCancel(thread: Thread): Event | undefined {
  for (let i = thread.events.length - 1; i >= 0; i--) {
    const e = thread.events[i] as Event;
    if (e.type === CANCELLED && !isAnnotation(e)) return undefined;
    if (e.type === CANCEL_REQUESTED && isAnnotation(e)) return e;
  }
  return undefined;
}

/**
 * Whether a `cancelled` event may be appended now. Never over a handler
 * that started without a recorded result: an `uncertain` request stays
 * shown (a human must say whether it ran), and an idempotent handler's
 * recovery runs first. Never on a finished thread.
 */
export function canCancelNow(thread: Thread): boolean {
  const state = threadState(thread);
  if (state.status === "done" || state.status === "failed" || state.status === "cancelled") return false;
  if (state.pending?.kind === "uncertain") return false;
  if (state.next?.kind === "execute" && state.next.recovery) return false;
  return true;
}

function isFinished(thread: Thread): boolean {
  const status = threadState(thread).status;
  return status === "done" || status === "failed" || status === "cancelled";
}

function cancelledEvent(clock: Clock, thread: Thread, options: CancelOptions): Event {
  const requested = pendingCancel(thread);
  const meta: Record<string, unknown> = {};
  const by = options.by ?? requested?.meta?.by;
  if (by !== undefined) meta.by = by;
  if (requested) meta.requestedBy = requested.id;
  if (options.idempotencyKey !== undefined) meta.idempotencyKey = options.idempotencyKey;
  const reason = options.reason ?? (requested?.data as { reason?: string } | null)?.reason ?? "cancelled";
  return makeEvent(clock, CANCELLED, { reason }, meta);
}

/** Thrown by the cancel-aware commit when the loop tries to commit after its thread was cancelled. */
class CancelStop extends Error {
  override name = "CancelStop";
}

/**
 * Runs `go` (the agent loop) with a commit hook that honours a cancel request
 * at step boundaries: after every commit that leaves no handler started
 * without a result (a handler's result recorded, an error, a pause), an
 * outstanding `cancel_requested` becomes a `cancelled` event and the loop
 * stops. A handler already running is never interrupted: its result is
 * committed first. A cancel requested before the loop starts (while the
 * thread waited on an `uncertain` request) is honoured before the first step.
 */
export async function runCancellable(
  store: ThreadStore,
  clock: Clock,
  thread: Thread,
  commit: CommitHook,
  onEvent: ((event: Event, thread: Thread) => void) | undefined,
  go: (thread: Thread, commit: CommitHook) => Promise<Thread>,
): Promise<Thread> {
  const stop = async (current: Thread): Promise<Thread> => {
    const event = cancelledEvent(clock, current, {});
    const after = (await appendOver(store, current, [event], { durable: true })).thread;
    onEvent?.(event, after);
    return after;
  };
  if (pendingCancel(thread) && canCancelNow(thread)) return stop(thread);
  let stopped = false;
  const cancellable: CommitHook = async (next, added, durable) => {
    if (stopped) throw new CancelStop();
    const at = added.findIndex((e) => e.meta?.kind === "started");
    const base = next.version - added.length;
    const partial = (): Thread => ({ ...next, events: next.events.slice(0, base + at), version: base + at });
    // Not over an earlier marker still without its result (an idempotent handler's recovery): that one runs first.
    if (at >= 0 && (await cancelArrived(next, added.length)) && canCancelNow(partial())) {
      // A cancel came while the model chose this step (or before an approved step's handler): the
      // handler has not started, so it never does. Record what came before its `_started` marker, then stop.
      const before = added.slice(0, at);
      const current = before.length > 0 ? await commit(partial(), before, true) : await store.load(next.id);
      stopped = true;
      await stop(current);
      throw new CancelStop();
    }
    const stored = await commit(next, added, durable);
    if (!pendingCancel(stored) || !canCancelNow(stored)) return stored;
    stopped = true;
    return stop(stored);
  };
  /** Whether a cancel request was written since the loop's copy (one indexed read; a load only when it moved). */
  const cancelArrived = async (next: Thread, added: number): Promise<boolean> => {
    if (pendingCancel(next)) return true;
    const summary = await store.summary(next.id);
    if (summary.version <= next.version - added) return false;
    return pendingCancel(await store.load(next.id)) !== undefined;
  };
  try {
    return await go(thread, cancellable);
  } catch (error) {
    // Something after the boundary (an afterStep hook) tried to go on: the thread is cancelled as stored.
    if (error instanceof CancelStop) return store.load(thread.id);
    throw error;
  }
}

export interface CancelDeps {
  store: ThreadStore;
  clock: Clock;
  /** Runs `fn` under the thread's lease, waiting at most `waitMs` for it. */
  lease: <T>(threadId: string, waitMs: number, fn: () => Promise<T>) => Promise<T>;
  /** How long to wait for a running loop to let go before leaving the request to it. */
  waitMs: number;
  onEvent?: (event: Event, thread: Thread) => void;
}

export interface CancelOutcome {
  thread: Thread;
  duplicate: boolean;
  /** A cancel request waits for a step boundary (a handler runs, or an `uncertain` request must be answered first). */
  cancelRequested: boolean;
}

const MAX_ATTEMPTS = 20;

/**
 * Cancels a thread (see `AgentRuntime.cancel`). Under the thread's lease,
 * when it is at a step boundary, the `cancelled` event is appended at once.
 * When a runner holds the lease (a handler or a model call is in flight) or
 * a handler's result is missing, a `cancel_requested` annotation is recorded
 * instead — annotations never make a running loop's commit fail — and the
 * loop (or the next one, after the `uncertain` request is answered) appends
 * `cancelled` at its next step boundary.
 */
export async function cancelThread(deps: CancelDeps, threadId: string, options: CancelOptions): Promise<CancelOutcome> {
  const { store, clock } = deps;
  const key = options.idempotencyKey;
  const seen = (thread: Thread) => key !== undefined && thread.events.some((e) => e.meta?.idempotencyKey === key);
  const outcome = (thread: Thread, duplicate = false): CancelOutcome => ({
    thread,
    duplicate,
    cancelRequested: pendingCancel(thread) !== undefined,
  });

  const underLease = async (thread: Thread): Promise<CancelOutcome> => {
    if (seen(thread)) return outcome(thread, true);
    if (isFinished(thread)) return outcome(thread);
    if (canCancelNow(thread)) {
      const event = cancelledEvent(clock, thread, options);
      const appended = await appendOver(store, thread, [event], key !== undefined ? { idempotencyKey: key } : {});
      if (!appended.duplicate) deps.onEvent?.(event, appended.thread);
      return outcome(appended.thread, appended.duplicate);
    }
    if (pendingCancel(thread)) return outcome(thread);
    return request(thread);
  };

  const request = async (loaded: Thread): Promise<CancelOutcome> => {
    let thread = loaded;
    for (let attempt = 0; ; attempt++) {
      if (seen(thread)) return outcome(thread, true);
      if (isFinished(thread) || pendingCancel(thread)) return outcome(thread);
      const meta: Record<string, unknown> = { annotation: true };
      if (options.by !== undefined) meta.by = options.by;
      if (key !== undefined) meta.idempotencyKey = key;
      const event = makeEvent(clock, CANCEL_REQUESTED, { reason: options.reason ?? "cancelled" }, meta);
      try {
        const appended = await store.append(thread.id, [event], {
          expectedVersion: thread.version,
          ...(key !== undefined && { idempotencyKey: key }),
        });
        const after = await store.load(thread.id);
        if (!appended.duplicate) deps.onEvent?.(event, after);
        return outcome(after, appended.duplicate);
      } catch (error) {
        if (!(error instanceof VersionConflictError) || attempt >= MAX_ATTEMPTS) throw error;
        thread = await store.load(thread.id);
      }
    }
  };

  try {
    return await deps.lease(threadId, 0, async () => underLease(await store.load(threadId)));
  } catch (error) {
    if (!(error instanceof LeaseHeldError)) throw error;
  }
  // A runner is on the thread: leave the request for its next step boundary.
  const requested = await request(await store.load(threadId));
  if (requested.duplicate || !requested.cancelRequested) return requested;
  // The runner may have made its last commit just before the request: if it lets go soon, finish here.
  try {
    return await deps.lease(threadId, deps.waitMs, async () => {
      const thread = await store.load(threadId);
      if (!pendingCancel(thread) || !canCancelNow(thread)) return outcome(thread);
      const event = cancelledEvent(clock, thread, { ...options, idempotencyKey: undefined });
      const appended = await appendOver(store, thread, [event], { durable: true });
      deps.onEvent?.(event, appended.thread);
      return outcome(appended.thread);
    });
  } catch (error) {
    if (error instanceof LeaseHeldError) return requested;
    throw error;
  }
}
