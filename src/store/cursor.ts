import { StoreInputError } from "./errors.js";
import { DEFAULT_PAGE_SIZE, type ListFilter, MAX_PAGE_SIZE } from "./types.js";

/**
 * Keyset pagination: lists are ordered by (updatedAt desc, id desc) and a
 * cursor is the last row's key, so pages stay stable and cheap at any depth.
 */
export interface CursorKey {
  updatedMs: number;
  id: string;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.updatedMs, key.id])).toString("base64url");
}

export function decodeCursor(cursor: string): CursorKey {
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && typeof value[0] === "number" && typeof value[1] === "string") {
      return { updatedMs: value[0], id: value[1] };
    }
  } catch {
    // fall through to the typed error
  }
  throw new StoreInputError(
    "invalid_cursor",
    `invalid list cursor "${cursor}": pass the nextCursor of a previous page`,
  );
}

export function pageSize(filter: ListFilter): number {
  const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new StoreInputError(
      "invalid_input",
      `list limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${limit}`,
    );
  }
  return limit;
}

export function statusList(filter: ListFilter): string[] | undefined {
  if (filter.status === undefined) return undefined;
  return typeof filter.status === "string" ? [filter.status] : [...filter.status];
}
