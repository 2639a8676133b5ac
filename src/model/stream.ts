import type { GenerateRequest, GenerateResult } from "./types.js";
import { stringifyArguments } from "./wire.js";

/**
 * Plays a finished answer through the request's streaming callbacks in a few
 * pieces, as a provider would stream it: the text through `onText`, each tool
 * call's arguments (as JSON text) through `onToolArguments`. Test models
 * (scripted, rules, replay) use it so streaming code is exercised without an LLM.
 */
export function playBack(request: GenerateRequest, result: GenerateResult, pieces = 4): void {
  if (request.onText && result.text) for (const piece of split(result.text, pieces)) request.onText(piece);
  if (request.onToolArguments) {
    for (const call of result.toolCalls ?? []) {
      for (const piece of split(stringifyArguments(call.arguments), pieces)) {
        request.onToolArguments(call.id, call.name, piece);
      }
    }
  }
}

/** `text` in at most `count` pieces of about equal length, never splitting a surrogate pair. */
export function split(text: string, count: number): string[] {
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / Math.max(1, count)));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out;
}
