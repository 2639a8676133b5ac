import { errorEvent, intentOfResult } from "../thread/builtin.js";
import type { Event } from "../thread/event.js";

/** Bookkeeping the model never sees: `_started` markers, `meta.hidden`, and annotations unless shown. */
export function hiddenFromModel(event: Event, showAnnotations = false): boolean {
  const meta = event.meta;
  return meta?.kind === "started" || meta?.hidden === true || (meta?.annotation === true && !showAnnotations);
}

/**
 * Which events the model sees. Hidden: `_started` markers (bookkeeping),
 * events flagged `meta.hidden`, annotations (deliveries, reminders, notes)
 * unless `showAnnotations`, and — when `hideResolvedErrors` — errors of an
 * intent that later succeeded (the model need not re-read fixed mistakes;
 * the thread still keeps them).
 */
export function visibleEvents(events: readonly Event[], hideResolvedErrors: boolean, showAnnotations = false): Event[] {
  const resolvedAfter = new Map<Event, boolean>();
  if (hideResolvedErrors) {
    const succeeded = new Set<string>();
    let anySuccess = false;
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i] as Event;
      if (e.meta?.kind === "result") {
        succeeded.add(e.meta.intent ?? intentOfResult(e.type) ?? e.type);
        anySuccess = true;
      } else if (e.type === "error") {
        const intent = errorIntent(e);
        resolvedAfter.set(e, intent !== undefined ? succeeded.has(intent) : anySuccess);
      }
    }
  }
  return events.filter((e) => !hiddenFromModel(e, showAnnotations) && !resolvedAfter.get(e));
}

/** The intent an error event is about, if it names one. */
export function errorIntent(event: Event): string | undefined {
  return errorEvent.read(event)?.intent;
}
