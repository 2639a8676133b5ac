import type { InboundInput, InboundRecord, PendingInboundFilter, ThreadStore } from "../store/types.js";

/** Handles one inbound payload: start or answer a thread, post a reply, … */
export type InboundProcessor = (payload: unknown, record: InboundRecord) => Promise<void>;

export interface ReceiveInboundResult {
  /** A redelivery of a payload already recorded: nothing was processed now. */
  duplicate: boolean;
  /** Whether the payload has been processed (by this call, or before for a duplicate). */
  processed: boolean;
}

export interface ReceiveInboundOptions {
  /**
   * Called once the record is durable (for a redelivery too), before
   * processing: the moment to acknowledge the sender (answer Slack's HTTP
   * request, accept the SMTP message, return 202 to the webhook).
   */
  ack?: (result: ReceiveInboundResult) => void | Promise<void>;
}

/**
 * Record, acknowledge, then process: the order that loses nothing. The
 * payload is stored durably first (a redelivery with the same source and id
 * is a no-op reporting `duplicate`), then `ack` runs, then `process`, then
 * the record is marked processed. If `process` throws, the failed attempt is
 * counted on the record (it stays pending for `recoverInbound`) and the error
 * is rethrown. If the process dies after the record, `recoverInbound` finds it.
 *
 * Delivery to `process` is at least once: a crash after `process` finished
 * but before the mark is written processes the payload again on recovery. Make
 * `process` idempotent, e.g. start threads with an idempotency key derived
 * from the record (`runtime.start(agent, first, {idempotency: {scope:
 * \`inbound:${source}\`, key: id}})`) and append with idempotency keys.
 *
 * A redelivery of a payload still pending is not processed here (its first
 * receiver may still be at it): the recovery sweep handles it.
 */
export async function receiveInbound(
  store: ThreadStore,
  input: InboundInput,
  process: InboundProcessor,
  options: ReceiveInboundOptions = {},
): Promise<ReceiveInboundResult> {
  const recorded = await store.recordInbound(input);
  const outcome: ReceiveInboundResult = { duplicate: recorded.duplicate, processed: recorded.processed };
  await options.ack?.({ ...outcome });
  if (recorded.duplicate) return outcome;
  // What recovery would hand over: the payload as stored (a JSON round trip), not the caller's object.
  const json = JSON.stringify(input.payload);
  const record: InboundRecord = {
    source: input.source,
    id: input.id,
    payload: json === undefined ? null : JSON.parse(json),
    receivedAt: recorded.receivedAt,
    attempts: 0,
  };
  await processRecord(store, record, process, true);
  return { duplicate: false, processed: true };
}

export interface RecoverInboundResult {
  /** Records processed and marked by this sweep. */
  processed: number;
  /** Records whose processing threw (counted on the record; they stay pending). */
  failed: number;
}

/**
 * The recovery sweep: processes the records a crash (or a failed attempt)
 * left unprocessed, oldest first, up to `limit` (default 100) per call; call
 * it again for more. Run it at start-up, then periodically with
 * `olderThanMs` so it leaves alone what a live receiver is still processing.
 * One sweeper at a time: two sweeps running together may process a record twice.
 */
export async function recoverInbound(
  store: ThreadStore,
  process: InboundProcessor,
  filter: PendingInboundFilter = {},
): Promise<RecoverInboundResult> {
  const result: RecoverInboundResult = { processed: 0, failed: 0 };
  for (const record of await store.pendingInbound(filter)) {
    if (await processRecord(store, record, process, false)) result.processed++;
    else result.failed++;
  }
  return result;
}

/** Processes one record and marks it; on failure counts the attempt, then rethrows or reports false. */
async function processRecord(
  store: ThreadStore,
  record: InboundRecord,
  process: InboundProcessor,
  rethrow: boolean,
): Promise<boolean> {
  try {
    await process(record.payload, record);
  } catch (error) {
    await store.markInboundProcessed(record.source, record.id, { error: error ?? "failed" });
    if (rethrow) throw error;
    return false;
  }
  await store.markInboundProcessed(record.source, record.id);
  return true;
}
