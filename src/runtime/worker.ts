import { AsyncLocalStorage } from "node:async_hooks";
import { setMaxListeners } from "node:events";
import type { Agent, NewEvent } from "../agent/agent.js";
import { TwelveError } from "../errors/index.js";
import { LeaseHeldError } from "../store/errors.js";
import type { ThreadStore } from "../store/types.js";
import { type Answer, parseRequestId } from "../thread/request.js";
import type { Thread } from "../thread/thread.js";
import {
  type AgentRuntime,
  createRuntime,
  type RuntimeOptions,
  type RuntimeResult,
  type StartOptions,
} from "./runtime.js";

/**
 * A worker runs threads in the background through the runtime: a call is
 * *accepted* once its first write is durable (the thread created, the
 * answer or message appended) or it fails before any write (a refused
 * answer, an unknown agent); the loop then goes on without the caller.
 * An HTTP server answers 202 at acceptance; a scale-out worker process
 * runs only `sweep()`.
 */
export interface Worker {
  /** The runtime every call goes through (its store records acceptances). */
  readonly runtime: AgentRuntime;
  /** Starts a thread; resolves with the thread once it is created (or the one an idempotency key created). */
  start(agent: string, first: string | NewEvent, options?: StartOptions): Promise<Accepted>;
  /** Answers a request; resolves once the answer is appended (or was a repeat); rejects when refused. */
  answer(answer: Answer): Promise<Accepted>;
  /** Appends a trigger event to a thread; resolves once appended; rejects when refused. */
  send(threadId: string, event: NewEvent): Promise<Accepted>;
  /** Continues a `running` thread in the background (after a crash, or a fork). */
  continue(threadId: string): Promise<Accepted>;
  /** Resolves when this worker is not running the thread any more (or after `ms`). */
  settled(threadId: string, ms: number): Promise<void>;
  /** Whether this worker is running the thread now. */
  busy(threadId: string): boolean;
  /** Continues every `running` thread of its agents nobody holds (start-up, then periodically). */
  sweep(): Promise<{ started: string[] }>;
  /** Stops accepting calls and waits for the running ones, up to `graceMs`; then aborts them (the leases are released). */
  drain(graceMs: number): Promise<{ finished: number; aborted: number }>;
  /** Threads running now. */
  readonly running: number;
}

export interface Accepted {
  /** The thread as it was right after the accepted write. */
  thread: Thread;
  /** A repeated idempotent call: nothing new was written. */
  duplicate: boolean;
  /** The call's whole run (pause, end, or a failure, which is logged). */
  done: Promise<RuntimeResult | undefined>;
}

export interface WorkerOptions extends Omit<RuntimeOptions, "store" | "signal"> {
  store: ThreadStore;
  /** Called with an error a background run ended with (the thread stays `running` for the next sweep). */
  onError?: (error: unknown, threadId: string | undefined) => void;
  /** Stop and release leases when aborted (the worker also aborts on drain). */
  signal?: AbortSignal;
}

/** What the store proxy reports to the call running in this async context: its first accepted write. */
interface CallContext {
  accepted: boolean;
  /** The first write: the thread itself (created), or its id (appended: loaded outside the commit path). */
  accept(thread: Thread | string, duplicate: boolean): void;
}

export function createWorker(options: WorkerOptions): Worker {
  const calls = new AsyncLocalStorage<CallContext>();
  const abort = new AbortController();
  // Every run in flight listens on this one signal (its lease and its model call): hundreds at once is normal.
  setMaxListeners(0, abort.signal);
  options.signal?.addEventListener("abort", () => abort.abort(options.signal?.reason), { once: true });
  const running = new Map<string, Set<Promise<unknown>>>();
  const all = new Set<Promise<unknown>>();
  let draining = false;

  // The runtime's store, seen through a proxy: creating or appending reports to the call that made it.
  const base = options.store;
  const store = new Proxy(base, {
    get(target, prop) {
      if (prop === "create") {
        return async (thread: Thread, o?: Parameters<ThreadStore["create"]>[1]) => {
          const created = await target.create(thread, o);
          calls.getStore()?.accept(created, false);
          return created;
        };
      }
      if (prop === "createOnce") {
        return async (thread: Thread, o: Parameters<ThreadStore["createOnce"]>[1]) => {
          const once = await target.createOnce(thread, o);
          calls.getStore()?.accept(once.thread, !once.created);
          return once;
        };
      }
      if (prop === "append") {
        return async (
          threadId: string,
          events: Parameters<ThreadStore["append"]>[1],
          o: Parameters<ThreadStore["append"]>[2],
        ) => {
          const appended = await target.append(threadId, events, o);
          const ctx = calls.getStore();
          // Only the call's first write is reported; the loop's later commits pass straight through.
          if (ctx && !ctx.accepted) ctx.accept(threadId, appended.duplicate);
          return appended;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const { onError, signal: _signal, ...runtimeOptions } = options;
  const runtime = createRuntime({ ...runtimeOptions, store, signal: abort.signal });

  const track = (threadId: string, p: Promise<unknown>) => {
    let set = running.get(threadId);
    if (!set) {
      set = new Set();
      running.set(threadId, set);
    }
    set.add(p);
    all.add(p);
    void p.finally(() => {
      set.delete(p);
      all.delete(p);
      if (set.size === 0 && running.get(threadId) === set) running.delete(threadId);
    });
  };

  /**
   * Runs `call` in the background; resolves at its first write, or with its
   * result when it wrote nothing (a repeat); rejects with its error when it
   * failed before writing anything.
   */
  const accept = (knownThreadId: string | undefined, call: () => Promise<RuntimeResult>): Promise<Accepted> => {
    if (draining) {
      return Promise.reject(new TwelveError("draining", "the server is shutting down; retry on another instance"));
    }
    return new Promise<Accepted>((resolveAccepted, rejectAccepted) => {
      let accepted = false;
      let threadId = knownThreadId;
      const ctx: CallContext = {
        get accepted() {
          return accepted;
        },
        accept(thread, duplicate) {
          if (accepted) return;
          accepted = true;
          const id = typeof thread === "string" ? thread : thread.id;
          threadId = id;
          if (!knownThreadId) track(id, done);
          if (typeof thread !== "string") return resolveAccepted({ thread, duplicate, done });
          // Loaded beside the loop, not inside its commit: the run goes on while the caller gets its answer.
          base.load(id).then((loaded) => resolveAccepted({ thread: loaded, duplicate, done }), rejectAccepted);
        },
      };
      const done: Promise<RuntimeResult | undefined> = calls.run(ctx, call).then(
        (result) => {
          if (!accepted) {
            accepted = true;
            if (!knownThreadId) track(result.thread.id, done);
            resolveAccepted({ thread: result.thread, duplicate: result.duplicate, done });
          }
          return result;
        },
        (error: unknown) => {
          if (!accepted) {
            accepted = true;
            rejectAccepted(error);
            return undefined;
          }
          // After acceptance the thread is saved; an aborted run (shutdown) resumes on the next start.
          if (!abort.signal.aborted) onError?.(error, threadId);
          return undefined;
        },
      );
      if (knownThreadId) track(knownThreadId, done);
      else all.add(done);
      void done.finally(() => all.delete(done));
    });
  };

  const worker: Worker = {
    runtime,
    start: (agent, first, startOptions) => accept(undefined, () => runtime.start(agent, first, startOptions)),
    answer: (answer) => {
      const threadId = parseRequestId(answer.requestId)?.threadId;
      return accept(threadId, () => runtime.answer(answer));
    },
    send: (threadId, event) => accept(threadId, () => runtime.send(threadId, event)),
    continue: (threadId) => accept(threadId, () => runtime.continue(threadId)),
    async settled(threadId, ms) {
      const set = running.get(threadId);
      if (!set || set.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...set]),
        new Promise<void>((r) => {
          timer = setTimeout(r, ms);
        }),
      ]);
      clearTimeout(timer);
    },
    busy: (threadId) => (running.get(threadId)?.size ?? 0) > 0,
    async sweep() {
      const out = { started: [] as string[] };
      if (draining) return out;
      const names = new Set(agentNames(options.agents));
      let cursor: string | undefined;
      do {
        const page = await base.list({ status: "running", limit: 500, ...(cursor ? { cursor } : {}) });
        for (const s of page.threads) {
          if (!names.has(s.agent) || worker.busy(s.id)) continue;
          // In the background: a thread another live process holds ends in LeaseHeldError, and the next sweep looks again.
          out.started.push(s.id);
          accept(s.id, () => runtime.continue(s.id)).catch((error: unknown) => {
            if (!(error instanceof LeaseHeldError) && !abort.signal.aborted) onError?.(error, s.id);
          });
        }
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    },
    async drain(graceMs) {
      draining = true;
      const pending = [...all];
      let timer: NodeJS.Timeout | undefined;
      const finishedInTime = await Promise.race([
        Promise.allSettled(pending).then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (finishedInTime) return { finished: pending.length, aborted: 0 };
      const left = all.size;
      abort.abort(new TwelveError("interrupted", "the server is shutting down"));
      await Promise.allSettled([...all]);
      return { finished: pending.length - left, aborted: left };
    },
    get running() {
      return running.size;
    },
  };
  return worker;
}

function agentNames(agents: Agent | readonly Agent[]): string[] {
  return (Array.isArray(agents) ? agents : [agents as Agent]).map((a) => a.name);
}
