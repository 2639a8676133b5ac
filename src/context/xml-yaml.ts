import { stringify } from "yaml";
import type { Event } from "../thread/event.js";
import type { Thread } from "../thread/thread.js";
import { redactValue } from "./redact.js";
import { type ContextRenderer, type RenderOptions, truncate } from "./types.js";
import { visibleEvents } from "./visible.js";

/**
 * The essay's format (factor 3): each event as `<type>` + YAML body +
 * `</type>`. Dense, readable, and about a third fewer tokens than chat
 * messages. Events are immutable, so each one is rendered once and cached.
 */
export function xmlYaml(options: RenderOptions = {}): ContextRenderer {
  const cache = new WeakMap<Event, string | null>();
  const hideResolved = options.hideResolvedErrors ?? true;
  return (thread: Thread) => {
    const blocks: string[] = [];
    for (const event of visibleEvents(thread.events, hideResolved)) {
      let block = cache.get(event);
      if (block === undefined) {
        block = renderBlock(event, options);
        cache.set(event, block);
      }
      if (block !== null) blocks.push(block);
    }
    return blocks.join("\n\n");
  };
}

export function renderBlock(event: Event, options: RenderOptions): string | null {
  const custom = options.renderers?.[event.type];
  const body = custom ? custom(event) : yamlBody(event, options);
  if (body === null) return null;
  return `<${event.type}>\n${body}\n</${event.type}>`;
}

function yamlBody(event: Event, options: RenderOptions): string {
  const data = options.redact === false ? event.data : redactValue(event.data, options.redact ?? {});
  let body: string;
  if (typeof data === "string") body = data;
  else if (data === null || data === undefined) body = "";
  else body = stringify(data, { lineWidth: 0 }).trimEnd();
  return event.meta?.kind === "result" ? truncate(body, options.maxResultChars ?? 8000) : body;
}
