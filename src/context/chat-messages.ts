import { stringify } from "yaml";
import type { Message } from "../model/types.js";
import { ANSWER_EVENT_TYPES, approvalEvent, errorEvent } from "../thread/builtin.js";
import type { Event } from "../thread/event.js";
import { stepArguments } from "../thread/status.js";
import type { Thread } from "../thread/thread.js";
import { redactValue } from "./redact.js";
import { type ContextRenderer, type RenderOptions, truncate } from "./types.js";
import { visibleEvents } from "./visible.js";

/**
 * The thread as standard chat messages: steps become assistant tool calls,
 * and what answers a step becomes the tool message for that call, so every
 * call is answered as providers require: its result or error (an approval
 * that let the step run only adds a line before it when it carries
 * feedback or edited arguments), a rejection's feedback, or a human
 * response. Other events are user messages.
 */
export function chatMessages(options: RenderOptions = {}): ContextRenderer {
  return (thread: Thread) => {
    const messages: Message[] = [];
    let open: Event | undefined;
    const clean = (v: unknown) => (options.redact === false ? v : redactValue(v, options.redact ?? {}));
    const body = (e: Event): string => {
      const custom = options.renderers?.[e.type];
      if (custom) return custom(e) ?? "";
      const data = clean(e.data);
      const text = typeof data === "string" ? data : JSON.stringify(data);
      return e.meta?.kind === "result" ? truncate(text, options.maxResultChars ?? 8000) : text;
    };
    /** What an approval that let the open step run adds before its result ("" for a plain approval). */
    let approvedNote = "";
    const answer = (content: string) => {
      if (!open) return false;
      const text = approvedNote === "" || content === "" ? approvedNote + content : `${approvedNote}\n${content}`;
      messages.push({ role: "tool", toolCallId: open.id, name: open.meta?.intent ?? open.type, content: text });
      open = undefined;
      approvedNote = "";
      return true;
    };
    for (const e of visibleEvents(thread.events, options.hideResolvedErrors ?? true, options.annotations)) {
      if (options.renderers?.[e.type] && options.renderers[e.type]?.(e) === null) continue;
      if (e.meta?.kind === "step") {
        if (open) answer("(no result)");
        const name = e.meta.intent ?? e.type;
        messages.push({
          role: "assistant",
          content: "",
          toolCalls: [{ id: e.id, name, arguments: clean(stepArguments(e)) }],
        });
        open = e;
        continue;
      }
      if (e.type === "approval" && open && !options.renderers?.approval) {
        const parsed = approvalEvent.schema.safeParse(clean(e.data));
        const data = parsed.success ? parsed.data : undefined;
        const feedback = data?.feedback ? `: ${data.feedback}` : "";
        if (data?.approved === true) {
          // The step runs now: its result (or error) answers the call.
          const edited = data.arguments ? ` with arguments ${JSON.stringify(data.arguments)}` : "";
          approvedNote = edited || feedback ? `approved${edited}${feedback}` : "";
          continue;
        }
        if (data?.approved === false) {
          answer(`rejected${feedback}`);
          continue;
        }
      }
      const answers = e.meta?.kind === "result" || e.type === errorEvent.type || ANSWER_EVENT_TYPES.has(e.type);
      if (answers && open) {
        const prefix = e.meta?.kind === "result" ? "" : `${e.type}: `;
        answer(prefix + body(e));
        continue;
      }
      // Providers reject a tool call that no tool message answers before the next user
      // message (e.g. a `done_for_now` call, then the user writes again): close it first.
      if (open) answer(approvedNote === "" ? "(no result)" : "");
      if (e.type === "user_message" && typeof e.data === "string") {
        messages.push({ role: "user", content: clean(e.data) as string });
        continue;
      }
      const data = clean(e.data);
      const yaml = typeof data === "string" ? data : stringify(data ?? null, { lineWidth: 0 }).trimEnd();
      messages.push({ role: "user", content: `<${e.type}>\n${yaml}\n</${e.type}>` });
    }
    // Approved but not run yet: the approval is all there is to say.
    if (open && approvedNote !== "") answer("");
    return messages;
  };
}
