import type { ListFilter, ThreadStore } from "../store/types.js";
import { type HumanRequest, requestFromPending } from "../thread/request.js";
import type { RequestKind, ThreadStatus } from "../thread/status.js";
import { PAUSED_STATUSES } from "../thread/status.js";

export interface RequestFilter {
  agent?: string;
  kind?: RequestKind;
  /** Only requests waiting at least this long (ms), e.g. for reminders. */
  olderThanMs?: number;
  /** Only requests that started waiting within this many ms. */
  newerThanMs?: number;
  /** Page size; default 50, at most 1000. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
  /** The clock for the age filters; default now. */
  now?: Date;
}

export interface RequestPage {
  /** Most recently paused first. */
  requests: HumanRequest[];
  nextCursor?: string;
}

const PAUSED: readonly ThreadStatus[] = PAUSED_STATUSES;

/**
 * What is waiting for a human, across threads: one page of pending
 * requests, read from the stores' indexed status / pending-kind columns
 * (no thread is loaded). The inbox and the channels list with this.
 */
export async function listRequests(store: ThreadStore, filter: RequestFilter = {}): Promise<RequestPage> {
  const now = (filter.now ?? new Date()).getTime();
  const list: ListFilter = {};
  if (filter.kind) list.pendingKind = filter.kind;
  else list.status = PAUSED;
  if (filter.agent !== undefined) list.agent = filter.agent;
  if (filter.olderThanMs !== undefined) list.updatedBefore = new Date(now - filter.olderThanMs);
  if (filter.newerThanMs !== undefined) list.updatedAfter = new Date(now - filter.newerThanMs);
  if (filter.limit !== undefined) list.limit = filter.limit;
  if (filter.cursor !== undefined) list.cursor = filter.cursor;
  const page = await store.list(list);
  const requests = page.threads.flatMap((s) => (s.pending ? [requestFromPending(s.id, s.pending, s.updatedAt)] : []));
  return page.nextCursor ? { requests, nextCursor: page.nextCursor } : { requests };
}
