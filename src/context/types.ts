import type { Message } from "../model/types.js";
import type { Event } from "../thread/event.js";
import type { Thread } from "../thread/thread.js";
import type { RedactOptions } from "./redact.js";

/** Turns a thread into what the prompt shows: one text block, or chat messages. */
export type ContextRenderer = (thread: Thread) => string | Message[];

export interface RenderOptions {
  /** Secret redaction; `false` turns it off. Default: on with the built-in key and value patterns. */
  redact?: RedactOptions | false;
  /** Hide errors once the same intent later succeeds. Default true. */
  hideResolvedErrors?: boolean;
  /** Per-event-type custom rendering of the body; return `null` to hide the event. */
  renderers?: Record<string, (event: Event) => string | null>;
  /** Cut result bodies longer than this many characters. Default 8000; `0` = never. */
  maxResultChars?: number;
  /** Repeat `intent: <name>` inside a step's block (the tag already names it). Default false. */
  intentField?: boolean;
  /** Text between blocks (xmlYaml). Default one newline. */
  separator?: string;
}

export function truncate(text: string, max: number): string {
  if (max <= 0 || text.length <= max) return text;
  return `${text.slice(0, max)}\n… [truncated ${text.length - max} characters]`;
}
