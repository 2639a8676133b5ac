import { LeaseHeldError, LeaseLostError } from "../store/errors.js";
import { DEFAULT_LEASE_TTL_MS, type Lease, type ThreadStore } from "../store/types.js";

export interface RunnerLeaseOptions {
  /** Names this runner in lease errors; default a random id. */
  owner?: string;
  /** Lease length, renewed in the background while the loop runs. Default 30 s. */
  leaseTtlMs?: number;
  /** How long to wait for another runner's lease before giving up with LeaseHeldError. */
  leaseWaitMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Leases this process holds, by owner and thread. A store lets an owner
 * re-take its own lease (a runner restarting under its name gets its
 * threads back at once); inside one process that would let two calls of a
 * runtime with a fixed `owner` hold the same thread together, and the first
 * to finish would release it under the other (then a second runner could
 * run a step still in flight). So a process never takes a lease it holds.
 */
const heldHere = new Set<string>();

async function acquire(store: ThreadStore, threadId: string, options: RunnerLeaseOptions): Promise<Lease> {
  const deadline = Date.now() + (options.leaseWaitMs ?? 0);
  const owner = options.owner ?? `runner_${globalThis.crypto.randomUUID().slice(0, 8)}`;
  const key = JSON.stringify([owner, threadId]);
  for (let attempt = 0; ; attempt++) {
    try {
      if (heldHere.has(key)) throw new LeaseHeldError(threadId, owner, "another call of this process ends");
      heldHere.add(key);
      try {
        return await store.acquireLease(threadId, { owner, ttlMs: options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS });
      } catch (error) {
        heldHere.delete(key);
        throw error;
      }
    } catch (error) {
      if (!(error instanceof LeaseHeldError) || Date.now() >= deadline) throw error;
      // Jittered backoff so many waiting answers do not retry in lockstep.
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
  options: RunnerLeaseOptions,
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
    heldHere.delete(JSON.stringify([lease.owner, threadId]));
  }
}
