import type { Thread } from "../thread/thread.js";
import { redactValue } from "./redact.js";
import { type ContextRenderer, type RenderOptions, truncate } from "./types.js";
import { visibleEvents } from "./visible.js";

/** The thread as a JSON array of `{type, data}`, for models that read JSON best. */
export function json(options: RenderOptions & { pretty?: boolean } = {}): ContextRenderer {
  return (thread: Thread) => {
    const items: unknown[] = [];
    for (const event of visibleEvents(thread.events, options.hideResolvedErrors ?? true, options.annotations)) {
      const custom = options.renderers?.[event.type];
      if (custom) {
        const body = custom(event);
        if (body !== null) items.push({ type: event.type, data: body });
        continue;
      }
      let data = options.redact === false ? event.data : redactValue(event.data, options.redact ?? {});
      if (event.meta?.kind === "result" && typeof data === "string") {
        data = truncate(data, options.maxResultChars ?? 8000);
      }
      items.push({ type: event.type, data });
    }
    return JSON.stringify(items, null, options.pretty ? 2 : undefined);
  };
}
