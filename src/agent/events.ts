import { defaultRuntime, makeEvent, type Runtime } from "../thread/event.js";
import { createThread, type Thread } from "../thread/thread.js";
import type { NewEvent } from "./agent.js";

/** Small constructors for the events people send most. */
export const userMessage = (text: string, meta?: NewEvent["meta"]): NewEvent => ({
  type: "user_message",
  data: text,
  meta,
});

export const approve = (options: { arguments?: Record<string, unknown>; by?: string } = {}): NewEvent => ({
  type: "approval",
  data: options.arguments ? { approved: true, arguments: options.arguments } : { approved: true },
  meta: options.by ? { by: options.by } : undefined,
});

export const reject = (feedback: string, options: { by?: string } = {}): NewEvent => ({
  type: "approval",
  data: { approved: false, feedback },
  meta: options.by ? { by: options.by } : undefined,
});

export const humanResponse = (response: string | boolean, options: { by?: string } = {}): NewEvent => ({
  type: "human_response",
  data: { response },
  meta: options.by ? { by: options.by } : undefined,
});

export const externalResult = (intent: string, data: unknown): NewEvent => ({ type: `${intent}_result`, data });

/** A new thread whose first event is the given message (a string becomes a `user_message`). */
export function startThread(
  agent: string | { name: string },
  first: string | NewEvent,
  options: { id?: string; runtime?: Runtime } = {},
): Thread {
  const runtime = options.runtime ?? defaultRuntime;
  const event = typeof first === "string" ? userMessage(first) : first;
  const name = typeof agent === "string" ? agent : agent.name;
  return createThread(name, [makeEvent(runtime, event.type, event.data ?? null, event.meta)], { ...options, runtime });
}
