import type { Agent } from "../agent/agent.js";
import type { ThreadSummary } from "../store/types.js";
import { type HumanRequest, humanRequest, requestFromPending } from "../thread/request.js";
import { lastSubstantive, threadState } from "../thread/status.js";
import type { Thread } from "../thread/thread.js";
import type { ThreadSummaryView, ThreadView } from "./schemas.js";

/** A thread as the API shows it: derived status, the pending request, the output once done, the events. */
export function threadView(thread: Thread, extra: { busy: boolean; duplicate?: boolean }): ThreadView {
  const state = threadState(thread);
  const request: HumanRequest | undefined = humanRequest(thread);
  const last = lastSubstantive(thread.events);
  const view: ThreadView = {
    id: thread.id,
    agent: thread.agent,
    status: state.status as ThreadView["status"],
    request: request ?? null,
    version: thread.version,
    busy: extra.busy,
    events: thread.events.map((e) => ({
      id: e.id,
      type: e.type,
      data: e.data ?? null,
      at: e.at,
      ...(e.meta && { meta: e.meta as Record<string, unknown> }),
    })),
  };
  if (state.reason !== undefined) view.reason = state.reason;
  if (state.status === "done" && last?.meta?.kind === "step") {
    const { intent: _intent, ...args } = (last.data ?? {}) as Record<string, unknown>;
    view.output = args;
  }
  const first = thread.events[0];
  if (first) view.createdAt = first.at;
  if (thread.events.length) view.updatedAt = thread.events[thread.events.length - 1]?.at as string;
  if (thread.parent) view.parent = thread.parent;
  if (extra.duplicate !== undefined) view.duplicate = extra.duplicate;
  return view;
}

export function summaryView(s: ThreadSummary): ThreadSummaryView {
  return {
    id: s.id,
    agent: s.agent,
    status: s.status as ThreadSummaryView["status"],
    request: s.pending ? requestFromPending(s.id, s.pending, s.updatedAt) : null,
    version: s.version,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    ...(s.parent && { parent: s.parent }),
  };
}

export function agentView(agent: Agent) {
  return {
    name: agent.name,
    ...(agent.instructions && { description: agent.instructions }),
    intents: agent.intents.map((i) => ({
      name: i.name,
      ...(i.description && { description: i.description }),
      policy: typeof i.policy === "function" ? "dynamic" : String(i.policy),
    })),
  };
}
