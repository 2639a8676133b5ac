import { StoreInputError } from "./errors.js";
import { parseJson } from "./rows.js";
import {
  type CreateOnceOptions,
  DEFAULT_INBOUND_LIMIT,
  type InboundInput,
  type InboundRecord,
  MAX_PAGE_SIZE,
  type PendingInboundFilter,
} from "./types.js";

/** Checks and returns `createOnce`'s options, so every store refuses the same bad input. */
export function checkCreateOnce(options: CreateOnceOptions): CreateOnceOptions {
  const { scope, key, bodyHash } = options ?? ({} as CreateOnceOptions);
  for (const [name, value] of [
    ["scope", scope],
    ["key", key],
  ] as const) {
    if (typeof value !== "string" || value === "") {
      throw new StoreInputError("invalid_input", `createOnce needs a non-empty string ${name}`, { [name]: value });
    }
  }
  if (typeof bodyHash !== "string") {
    throw new StoreInputError("invalid_input", "createOnce needs a bodyHash string (a digest of the request)", {
      scope,
      key,
    });
  }
  return { scope, key, bodyHash };
}

/** An inbound record as the SQL stores write it: the payload as JSON text. */
export interface CheckedInbound {
  source: string;
  id: string;
  json: string;
}

export function checkInbound(input: InboundInput): CheckedInbound {
  const { source, id, payload } = input ?? ({} as InboundInput);
  checkKey(source, id);
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    throw new StoreInputError(
      "invalid_input",
      `inbound payload ${source}/${id} is not JSON: ${(error as Error).message}`,
      {
        source,
        id,
      },
    );
  }
  return { source, id, json: json ?? "null" };
}

export function checkKey(source: unknown, id: unknown): asserts source is string {
  if (typeof source !== "string" || source === "") {
    throw new StoreInputError("invalid_input", "an inbound record needs a non-empty string source", { source });
  }
  if (typeof id !== "string" || id === "") {
    throw new StoreInputError("invalid_input", "an inbound record needs a non-empty string id", { source, id });
  }
}

/** The text kept as `last_error` for a failed attempt. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

export function inboundFilter(filter: PendingInboundFilter = {}): { limit: number; olderThanMs: number } {
  const limit = filter.limit ?? DEFAULT_INBOUND_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new StoreInputError("invalid_input", `limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${limit}`);
  }
  const olderThanMs = filter.olderThanMs ?? 0;
  if (typeof olderThanMs !== "number" || !Number.isFinite(olderThanMs) || olderThanMs < 0) {
    throw new StoreInputError("invalid_input", `olderThanMs must be a non-negative number, got ${olderThanMs}`);
  }
  return { limit, olderThanMs };
}

export function checkDate(value: Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new StoreInputError("invalid_input", `${name} must be a valid Date`);
  return ms;
}

/** An inbound row as both SQL stores read it; the payload as JSON text (PostgreSQL selects `payload::text`). */
export interface InboundRow {
  source: string;
  id: string;
  payload: string;
  received_ms: number | string;
  processed_ms: number | string | null;
  attempts: number | string;
  last_error: string | null;
}

export function rowToInbound(row: InboundRow): InboundRecord {
  const record: InboundRecord = {
    source: row.source,
    id: row.id,
    payload: parseJson(row.payload, `inbound record ${row.source}/${row.id}`, { source: row.source, id: row.id }),
    receivedAt: new Date(Number(row.received_ms)).toISOString(),
    attempts: Number(row.attempts),
  };
  if (row.processed_ms !== null && row.processed_ms !== undefined) {
    record.processedAt = new Date(Number(row.processed_ms)).toISOString();
  }
  if (row.last_error !== null && row.last_error !== undefined) record.lastError = row.last_error;
  return record;
}
