import type { AnyIntent } from "../intent/intent.js";
import { matchLoose } from "../intent/parse/normalize.js";
import { type PartialStep, parsePartialArguments, parsePartialStep } from "../intent/parse/partial.js";
import type { GenerateRequest } from "../model/types.js";

export type { PartialStep } from "../intent/parse/partial.js";

/** The streaming callbacks a model call gets so that `onPartial` sees the step fill in. */
type StreamCallbacks = Pick<GenerateRequest, "onText" | "onToolArguments" | "onStreamReset">;

/**
 * Builds the model request's streaming callbacks for one step. Text deltas
 * (prompt and json modes, and models that answer tools mode in text) are
 * read as a step prefix; native tool-call argument deltas (tools mode) as
 * the arguments of the first call naming an intent, which then wins over
 * text. `onPartial` is called only when what is known changed. The prefix is
 * re-read after it grew by a 32nd of its length (at least one delta), so the
 * work stays linear in the answer's length.
 */
export function partialStream(
  intents: readonly AnyIntent[],
  onPartial: ((partial: PartialStep) => void) | undefined,
  onText: ((delta: string) => void) | undefined,
): StreamCallbacks {
  if (!onPartial) return onText ? { onText } : {};
  let text = "";
  let readAt = -1;
  const calls = new Map<string, { intent: AnyIntent | undefined; args: string; readAt: number }>();
  let chosen: string | undefined;
  let last = "";
  const show = (partial: PartialStep) => {
    if (partial.intent === undefined) return;
    const key = JSON.stringify([partial.intent, partial.value, partial.incomplete, partial.complete]);
    if (key === last) return;
    last = key;
    try {
      onPartial(partial);
    } catch {
      // A display hook: its failure must not fail the model call (which would become an error event).
    }
  };
  const due = (length: number, at: number) => at < 0 || length - at >= Math.max(1, length >> 5);
  return {
    onText(delta) {
      onText?.(delta);
      text += delta;
      if (chosen !== undefined || !due(text.length, readAt)) return;
      readAt = text.length;
      show(parsePartialStep(text, intents));
    },
    onToolArguments(callId, name, delta) {
      let call = calls.get(callId);
      if (!call) {
        const intent = intents.find((i) => i.name === name) ?? matchLoose(name, intents, (i) => i.name);
        call = { intent, args: "", readAt: -1 };
        calls.set(callId, call);
      }
      call.args += delta;
      if (!call.intent) return;
      chosen ??= callId;
      if (chosen !== callId || !due(call.args.length, call.readAt)) return;
      call.readAt = call.args.length;
      show(parsePartialArguments(call.args, call.intent));
    },
    onStreamReset() {
      text = "";
      readAt = -1;
      calls.clear();
      chosen = undefined;
      last = "";
    },
  };
}
