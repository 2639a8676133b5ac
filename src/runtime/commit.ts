import type { CommitHook } from "../agent/step.js";
import type { ThreadStore } from "../store/types.js";
import type { Event } from "../thread/event.js";
import type { Thread } from "../thread/thread.js";

/**
 * The agent loop's `commit` hook backed by a store: every batch of events is
 * appended at the version it was based on, before the loop does anything
 * with side effects. A stale version throws VersionConflictError, which
 * stops the loop: someone else moved the thread on. The loop's `durable`
 * flag goes to the store (default true when a caller leaves it out).
 */
export function storeCommit(store: ThreadStore): CommitHook {
  return async (thread: Thread, added: Event[], durable = true) => {
    if (added.length === 0) return thread;
    const result = await store.append(thread.id, added, { expectedVersion: thread.version - added.length, durable });
    return result.version === thread.version ? thread : store.load(thread.id);
  };
}
