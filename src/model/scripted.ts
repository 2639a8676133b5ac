import { TwelveError } from "../errors/index.js";
import { playBack } from "./stream.js";
import type { GenerateRequest, GenerateResult, Model } from "./types.js";

/**
 * One scripted answer:
 * - a string: returned as the model's text, verbatim (malformed answers too);
 * - a plain object with `intent`: returned as that step serialized to JSON text;
 * - `{ text }`, `{ toolCalls }` or a full GenerateResult: returned as given;
 * - an Error, or `{ error: "message" }`: thrown, like a failing provider call;
 * - a function: called with the request, its answer used as above.
 *
 * Given `onText` / `onToolArguments`, an answer other than a function is
 * streamed through them in a few pieces before it is returned.
 */
export type ScriptedAnswer =
  | string
  | Error
  | { error: string; code?: string }
  | ({ intent: string } & Record<string, unknown>)
  | GenerateResult
  | ((request: GenerateRequest) => ScriptedAnswer | Promise<ScriptedAnswer>);

export interface ScriptedModel extends Model {
  /** Every request received, in order (messages as sent: inspect the owned prompt). */
  readonly calls: GenerateRequest[];
  /** How many scripted answers are still unused. */
  readonly remaining: number;
  /** Throws if any scripted answer was left unused. */
  assertDone(): void;
}

export function scriptedModel(answers: readonly ScriptedAnswer[], options: { id?: string } = {}): ScriptedModel {
  const queue = [...answers];
  const calls: GenerateRequest[] = [];
  let used = 0;
  const model: ScriptedModel = {
    id: options.id ?? "script:inline",
    calls,
    get remaining() {
      return queue.length;
    },
    assertDone() {
      if (queue.length > 0) {
        throw new TwelveError(
          "script_unused",
          `scripted model: ${queue.length} scripted answer(s) left unused after ${used} call(s); next unused: ${preview(queue[0])}`,
          { remaining: queue.length, used },
        );
      }
    },
    async generate(request) {
      // The loop builds fresh messages every call, so a shallow copy keeps the record stable.
      calls.push({ ...request, messages: [...request.messages] });
      const next = queue.shift();
      if (next === undefined) {
        throw new TwelveError(
          "script_exhausted",
          `scripted model: no scripted answer left for call ${used + 1} (script had ${used})`,
          { used },
        );
      }
      used++;
      const result = await toResult(next, request);
      // A function answer streams for itself if it wants to; the others are played back in pieces.
      if (typeof next !== "function") playBack(request, result);
      return result;
    },
  };
  return model;
}

async function toResult(answer: ScriptedAnswer, request: GenerateRequest): Promise<GenerateResult> {
  if (typeof answer === "function") return toResult(await answer(request), request);
  if (typeof answer === "string") return { text: answer, usage: { inputTokens: 0, outputTokens: 0 } };
  if (answer instanceof Error) throw answer;
  if ("error" in answer && typeof answer.error === "string") {
    throw new TwelveError((answer.code as string) ?? "model_error", answer.error);
  }
  if ("intent" in answer && typeof answer.intent === "string") {
    return { text: JSON.stringify(answer), usage: { inputTokens: 0, outputTokens: 0 } };
  }
  return answer as GenerateResult;
}

function preview(answer: ScriptedAnswer | undefined): string {
  if (typeof answer === "function") return "<function>";
  if (answer instanceof Error) return `Error(${answer.message})`;
  const text = typeof answer === "string" ? answer : JSON.stringify(answer);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
