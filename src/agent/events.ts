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
