import type { Event } from "../thread/event.js";
import type { Thread } from "../thread/thread.js";
import { redactValue } from "./redact.js";
import { type ContextRenderer, type RenderOptions, truncate } from "./types.js";
import { errorIntent, visibleEvents } from "./visible.js";
import { toYaml } from "./yaml-fast.js";

/** What a previous render of a thread produced, so a grown thread only renders its new events. */
interface Memo {
  length: number;
  last: Event | undefined;
  text: string;
  /** Intents with visible errors ("*" for errors naming no intent): a later success would hide them. */
  openErrors: Set<string>;
}

/**
 * The essay's format (factor 3): each event as `<type>` + YAML body +
 * `</type>`; one-line bodies stay on the tag's line, and a step's block
 * does not repeat its intent name. Dense and readable (docs/benchmarks.md
 * has the token counts). Events are immutable, so each is rendered once; and a thread
 * that only grew since the last render is extended, not re-joined, which
 * keeps the cost of a turn flat as the thread gets long.
 */
export function xmlYaml(options: RenderOptions = {}): ContextRenderer {
  const blocks = new WeakMap<Event, string | null>();
  const memos = new WeakMap<Event, Memo>();
  const hideResolved = options.hideResolvedErrors ?? true;
  const separator = options.separator ?? "\n";

  const block = (event: Event): string | null => {
    let b = blocks.get(event);
    if (b === undefined) {
      b = renderBlock(event, options);
      blocks.set(event, b);
    }
    return b;
  };

  const full = (events: readonly Event[]): Memo => {
    const parts: string[] = [];
    const openErrors = new Set<string>();
    for (const event of visibleEvents(events, hideResolved)) {
      const b = block(event);
      if (b !== null) parts.push(b);
      if (event.type === "error") openErrors.add(errorIntent(event) ?? "*");
    }
    return { length: events.length, last: events.at(-1), text: parts.join(separator), openErrors };
  };

  const extend = (memo: Memo, events: readonly Event[]): Memo | undefined => {
    const added = events.slice(memo.length);
    const openErrors = new Set(memo.openErrors);
    let text = memo.text;
    for (const event of added) {
      if (event.meta?.kind === "result" && hideResolved) {
        const intent = event.meta.intent ?? event.type.replace(/_result$/, "");
        // A success hides earlier errors: visibility of old blocks changes, so start over.
        if (openErrors.has(intent) || openErrors.has("*")) return undefined;
      }
      if (event.meta?.kind === "started" || event.meta?.hidden) continue;
      if (event.type === "error") openErrors.add(errorIntent(event) ?? "*");
      const b = block(event);
      if (b !== null) text = text === "" ? b : `${text}${separator}${b}`;
    }
    return { length: events.length, last: events.at(-1), text, openErrors };
  };

  return (thread: Thread) => {
    const events = thread.events;
    const first = events[0];
    if (!first) return "";
    const memo = memos.get(first);
    const grown =
      memo && events.length >= memo.length && events[memo.length - 1] === memo.last ? extend(memo, events) : undefined;
    const next = grown ?? full(events);
    memos.set(first, next);
    return next.text;
  };
}

export function renderBlock(event: Event, options: RenderOptions): string | null {
  const custom = options.renderers?.[event.type];
  const body = custom ? custom(event) : yamlBody(event, options);
  if (body === null) return null;
  if (!body.includes("\n")) return `<${event.type}>${body}</${event.type}>`;
  return `<${event.type}>\n${body}\n</${event.type}>`;
}

function yamlBody(event: Event, options: RenderOptions): string {
  let data = options.redact === false ? event.data : redactValue(event.data, options.redact ?? {});
  // The tag already names the intent: `<add>a: 1</add>`, not `<add>intent: add …</add>`.
  const named = data && typeof data === "object" && (data as Record<string, unknown>).intent === event.type;
  if (named && !options.intentField) {
    const { intent: _named, ...args } = data as Record<string, unknown>;
    data = Object.keys(args).length > 0 ? args : null;
  }
  let body: string;
  if (typeof data === "string") body = data;
  else if (data === null || data === undefined) body = "";
  else body = toYaml(data);
  return event.meta?.kind === "result" ? truncate(body, options.maxResultChars ?? 8000) : body;
}
