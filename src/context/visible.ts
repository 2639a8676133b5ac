import type { Event } from "../thread/event.js";

/**
 * Which events the model sees. Hidden: `_started` markers (bookkeeping),
 * events flagged `meta.hidden`, and — when `hideResolvedErrors` — errors of
 * an intent that later succeeded (the model need not re-read fixed
 * mistakes; the thread still keeps them).
 */
export function visibleEvents(events: readonly Event[], hideResolvedErrors: boolean): Event[] {
  const resolvedAfter = new Map<Event, boolean>();
  if (hideResolvedErrors) {
    const succeeded = new Set<string>();
    let anySuccess = false;
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i] as Event;
      if (e.meta?.kind === "result") {
        succeeded.add(e.meta.intent ?? e.type.replace(/_result$/, ""));
        anySuccess = true;
      } else if (e.type === "error") {
        const intent = errorIntent(e);
        resolvedAfter.set(e, intent !== undefined ? succeeded.has(intent) : anySuccess);
      }
    }
  }
  return events.filter((e) => e.meta?.kind !== "started" && !e.meta?.hidden && !resolvedAfter.get(e));
}

/** The intent an error event is about, if it names one. */
export function errorIntent(event: Event): string | undefined {
  const intent = (event.data as Record<string, unknown> | null)?.intent;
  return typeof intent === "string" ? intent : undefined;
}
