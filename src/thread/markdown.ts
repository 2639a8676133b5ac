import { stringify } from "yaml";
import { threadState } from "./status.js";
import type { Thread } from "./thread.js";

/** A readable rendering of a thread for people: reviews, tickets, `twelve threads show`. */
export function toMarkdown(thread: Thread): string {
  const state = threadState(thread);
  const lines = [`# Thread ${thread.id}`, "", `- agent: ${thread.agent}`, `- status: ${state.status}`];
  if (state.pending) lines.push(`- awaiting: ${state.pending.kind} (step ${state.pending.stepId})`);
  if (state.reason) lines.push(`- reason: ${state.reason}`);
  if (thread.parent) lines.push(`- forked from: ${thread.parent.threadId} at ${thread.parent.eventId}`);
  lines.push(`- events: ${thread.events.length}`, "");
  for (const e of thread.events) {
    const who = typeof e.meta?.by === "string" ? ` by ${e.meta.by}` : "";
    const kind = e.meta?.kind ? ` _(${e.meta.kind}${e.meta.policy ? `, ${e.meta.policy}` : ""})_` : "";
    lines.push(`## ${e.type}${kind}`, "", `<sub>${e.at} · ${e.id}${who}</sub>`, "");
    const body = typeof e.data === "string" ? e.data : stringify(e.data ?? null, { lineWidth: 0 }).trimEnd();
    lines.push("```yaml", body, "```", "");
  }
  return lines.join("\n");
}
