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
  /** Show annotation events (`meta.annotation`: deliveries, reminders, notes) to the model. Default false. */
  annotations?: boolean;
  /** Per-event-type custom rendering of the body; return `null` to hide the event. */
  renderers?: Record<string, (event: Event) => string | null>;
  /** Cut result bodies longer than this many characters. Default 8000; `0` = never. */
  maxResultChars?: number;
  /** Repeat the intent inside a step's element (`intent: add` / `intent="add"`; the tag already names it). Default false. */
  intentField?: boolean;
  /** Text between blocks (xmlYaml). Default one newline. */
  separator?: string;
  /**
   * xmlYaml: render a step and what answers it (result, error, approval,
   * human response) as one element named after the intent:
   * `<add a=1000 b=17>1017</add>`. `false`: one block per event, as
   * `<add …/>` then `<add_result>1017</add_result>`. Default true.
   */
  fold?: boolean;
  /**
   * xmlYaml: a step's arguments as attributes with JSON values (`a=1000
   * note="hi"`, the default) or as a YAML body (`<add>\na: 1000\n…</add>`,
   * the essay's form). `"yaml"` needs the step's own block, so it implies
   * `fold: false`.
   */
  args?: "attributes" | "yaml";
}

export function truncate(text: string, max: number): string {
  if (max <= 0 || text.length <= max) return text;
  return `${text.slice(0, max)}\n… [truncated ${text.length - max} characters]`;
}
