/**
 * Durable threads (factors 5 and 6). The memory store and the types load
 * with no dependencies; SQLite and PostgreSQL load their drivers only when
 * opened (`openStore`, `twelve/store/sqlite`, `twelve/store/postgres`).
 */
export { channelRef } from "./derive.js";
export {
  IdempotencyConflictError,
  InboundNotFoundError,
  LeaseHeldError,
  LeaseLostError,
  StoreCorruptError,
  StoreInputError,
  ThreadArchivedError,
  ThreadExistsError,
  ThreadNotFoundError,
  VersionConflictError,
} from "./errors.js";
export { MemoryThreadStore, memoryStore } from "./memory.js";
export { openStore } from "./open.js";
export {
  type ClaimOutboxOptions,
  type DisabledEndpoint,
  type OutboxClaim,
  type OutboxEndpoint,
  type OutboxFilter,
  type OutboxMessage,
  type OutboxOutcome,
  type OutboxRow,
  type OutboxState,
  outboxMessages,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
  withOutbox,
} from "./outbox.js";
export type {
  AppendOptions,
  AppendResult,
  CreateOnceOptions,
  CreateOnceResult,
  CreateOptions,
  InboundInput,
  InboundRecord,
  InboundRecordResult,
  Lease,
  LeaseOptions,
  ListFilter,
  ListPage,
  PendingInboundFilter,
  SideRowsHook,
  StoreTransaction,
  ThreadStore,
  ThreadSummary,
} from "./types.js";
