import { TwelveError } from "../errors/index.js";

/** Someone appended to the thread since the caller loaded it. Reload, then decide again. */
export class VersionConflictError extends TwelveError {
  readonly threadId: string;
  readonly expectedVersion: number;
  readonly actualVersion: number;
  constructor(threadId: string, expectedVersion: number, actualVersion: number) {
    super(
      "version_conflict",
      `thread ${threadId} is at version ${actualVersion}, not ${expectedVersion}: it changed since it was loaded`,
      { threadId, expectedVersion, actualVersion },
    );
    this.name = "VersionConflictError";
    this.threadId = threadId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

export class ThreadNotFoundError extends TwelveError {
  constructor(threadId: string) {
    super("thread_not_found", `no thread "${threadId}" in the store`, { threadId });
    this.name = "ThreadNotFoundError";
  }
}

export class ThreadExistsError extends TwelveError {
  constructor(threadId: string) {
    super("thread_exists", `a thread with id "${threadId}" already exists in the store`, { threadId });
    this.name = "ThreadExistsError";
  }
}

export class ThreadArchivedError extends TwelveError {
  constructor(threadId: string) {
    super("thread_archived", `thread ${threadId} is archived: it can be loaded and forked, not appended to`, {
      threadId,
    });
    this.name = "ThreadArchivedError";
  }
}

/** Another runner holds an unexpired lease on the thread. */
export class LeaseHeldError extends TwelveError {
  constructor(threadId: string, owner: string, expiresAt: string) {
    super("lease_held", `thread ${threadId} is being run by ${owner} (lease until ${expiresAt})`, {
      threadId,
      owner,
      expiresAt,
    });
    this.name = "LeaseHeldError";
  }
}

/** The lease expired and another runner took it (or it was released). */
export class LeaseLostError extends TwelveError {
  constructor(threadId: string, owner: string) {
    super("lease_lost", `lease of ${owner} on thread ${threadId} expired or was taken over`, { threadId, owner });
    this.name = "LeaseLostError";
  }
}

/** What the store holds cannot be read: a damaged file, a row with invalid JSON, a missing event. */
export class StoreCorruptError extends TwelveError {
  constructor(message: string, details?: Record<string, unknown>, cause?: unknown) {
    super("store_corrupt", message, details, cause === undefined ? undefined : { cause });
    this.name = "StoreCorruptError";
  }
}

/** A bad argument to a store method: malformed events, a bad cursor, an unknown store URL. */
export class StoreInputError extends TwelveError {
  constructor(
    code:
      | "invalid_event"
      | "invalid_cursor"
      | "invalid_input"
      | "store_config"
      | "store_incompatible"
      | "missing_dependency",
    message: string,
    details?: object,
  ) {
    super(code, message, details as Record<string, unknown> | undefined);
    this.name = "StoreInputError";
  }
}

/**
 * A launch idempotency key (`createOnce`) was used before with a different
 * body: the caller reused a key for another request. The thread the key
 * names is in `details.threadId`; an HTTP server answers 422.
 */
export class IdempotencyConflictError extends TwelveError {
  readonly scope: string;
  readonly key: string;
  readonly threadId: string;
  constructor(scope: string, key: string, threadId: string) {
    super(
      "idempotency_conflict",
      `idempotency key "${key}" (scope "${scope}") was already used for a different request, which started thread ${threadId}`,
      { scope, key, threadId },
    );
    this.name = "IdempotencyConflictError";
    this.scope = scope;
    this.key = key;
    this.threadId = threadId;
  }
}

/** `markInboundProcessed` named a record that was never recorded. */
export class InboundNotFoundError extends TwelveError {
  constructor(source: string, id: string) {
    super("inbound_not_found", `no inbound record "${id}" from source "${source}" in the store`, { source, id });
    this.name = "InboundNotFoundError";
  }
}
