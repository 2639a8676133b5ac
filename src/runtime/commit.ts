import type { CommitHook } from "../agent/step.js";
import { VersionConflictError } from "../store/errors.js";
import type { ThreadStore } from "../store/types.js";
import type { Event } from "../thread/event.js";
import { isAnnotation } from "../thread/status.js";
import { appendEvents, type Thread } from "../thread/thread.js";

/** How often an append rebases over annotations written meanwhile before it gives up. */
const MAX_REBASES = 20;

export interface AppendOverResult {
  /** The thread after the append, annotations written meanwhile included. */
  thread: Thread;
  /** The idempotency key had been used: nothing was added. */
  duplicate: boolean;
}

/**
 * Appends `added` to `base` (the thread as the caller last saw it). When the
 * store moved on meanwhile and everything it gained is annotations (a
 * delivery record, a reminder, a refused answer), the batch is appended
 * after them: annotations never change what the thread does, so they must
 * never make a running loop's commit fail (otherwise a reminder sent while a
 * handler runs would turn its finished side effect into an `uncertain`
 * request). Anything else written meanwhile throws VersionConflictError.
 */
export async function appendOver(
  store: ThreadStore,
  base: Thread,
  added: readonly Event[],
  options: { durable?: boolean; idempotencyKey?: string } = {},
): Promise<AppendOverResult> {
  let current = base;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await store.append(base.id, added, { ...options, expectedVersion: current.version });
      if (result.duplicate) return { thread: await store.load(base.id), duplicate: true };
      const thread = appendEvents(current, added);
      return { thread: result.version === thread.version ? thread : await store.load(base.id), duplicate: false };
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= MAX_REBASES) throw error;
      const stored = await store.load(base.id);
      const since = stored.events.slice(base.version);
      const samePrefix = base.version === 0 || stored.events[base.version - 1]?.id === base.events.at(-1)?.id;
      if (!samePrefix || since.length === 0 || !since.every(isAnnotation)) throw error;
      current = stored;
    }
  }
}

/**
 * The agent loop's `commit` hook backed by a store: every batch of events is
 * appended at the version it was based on (rebasing only over annotations),
 * before the loop does anything with side effects. A real conflict throws
 * VersionConflictError, which stops the loop: someone else moved the thread
 * on. The loop's `durable` flag goes to the store.
 */
export function storeCommit(store: ThreadStore): CommitHook {
  return async (thread: Thread, added: Event[], durable = true) => {
    if (added.length === 0) return thread;
    const base: Thread = {
      ...thread,
      events: thread.events.slice(0, -added.length),
      version: thread.version - added.length,
    };
    return (await appendOver(store, base, added, { durable })).thread;
  };
}
