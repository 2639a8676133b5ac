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
 * work stays linear in the answer's length, and whenever a delta closes the
 * outermost JSON value, so the whole answer is always read.
 */
export function partialStream(
  intents: readonly AnyIntent[],
  onPartial: ((partial: PartialStep) => void) | undefined,
  onText: ((delta: string) => void) | undefined,
): StreamCallbacks {
  if (!onPartial) return onText ? { onText } : {};
  let text = "";
  let readAt = -1;
  let textRoot = new RootWatch();
  const calls = new Map<string, { intent: AnyIntent | undefined; args: string; readAt: number; root: RootWatch }>();
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
      const closed = textRoot.closes(delta);
      if (chosen !== undefined || (!closed && !due(text.length, readAt))) return;
      readAt = text.length;
      show(parsePartialStep(text, intents));
    },
    onToolArguments(callId, name, delta) {
      let call = calls.get(callId);
      if (!call) {
        const intent = intents.find((i) => i.name === name) ?? matchLoose(name, intents, (i) => i.name);
        call = { intent, args: "", readAt: -1, root: new RootWatch() };
        calls.set(callId, call);
      }
      call.args += delta;
      const closed = call.root.closes(delta);
      if (!call.intent) return;
      chosen ??= callId;
      if (chosen !== callId || (!closed && !due(call.args.length, call.readAt))) return;
      call.readAt = call.args.length;
      show(parsePartialArguments(call.args, call.intent));
    },
    onStreamReset() {
      text = "";
      readAt = -1;
      textRoot = new RootWatch();
      calls.clear();
      chosen = undefined;
      last = "";
    },
  };
}

/**
 * Follows JSON nesting across deltas (brackets outside double-quoted
 * strings), one pass over each delta: says when a delta brings the outermost
 * value back to depth 0, i.e. the answer's JSON has just closed.
 */
class RootWatch {
  private depth = 0;
  private inString = false;
  private escaped = false;

  closes(delta: string): boolean {
    let closed = false;
    for (let i = 0; i < delta.length; i++) {
      const c = delta.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92) this.escaped = true;
        else if (c === 34) this.inString = false;
      } else if (c === 34) {
        this.inString = true;
      } else if (c === 123 || c === 91) {
        this.depth++;
      } else if ((c === 125 || c === 93) && this.depth > 0) {
        this.depth--;
        if (this.depth === 0) closed = true;
      }
    }
    return closed;
  }
}
