import type { AnyIntent } from "../intent/intent.js";
import { renderIntentSchemas } from "../intent/schema-text.js";
import type { Message, OutputMode } from "../model/types.js";
import type { PromptInput } from "./agent.js";

/** What the model is told about answering, per output mode. Plain text: copy and edit it freely. */
export function outputFormatText(intents: readonly AnyIntent[], mode: OutputMode): string {
  if (mode === "tools") {
    return "Choose the next step by calling exactly one of the tools you are given.";
  }
  const lead =
    mode === "json"
      ? "Answer with one JSON object that matches exactly one of these shapes:"
      : "Decide the next step. You may think briefly first; then answer with one JSON object that matches exactly one of these shapes:";
  return `${lead}\n\n${renderIntentSchemas(intents)}`;
}

/**
 * The default prompt (factor 2). No hidden text: this is every word twelve
 * sends. Copy it into your agent and change what you like.
 */
export function defaultPrompt({ agent, context, outputFormat }: PromptInput): Message[] {
  const system: Message = { role: "system", content: `${agent.instructions}\n\n${outputFormat}` };
  if (typeof context !== "string") return [system, ...context];
  return [
    system,
    { role: "user", content: `Here is everything that has happened so far:\n\n${context}\n\nWhat is the next step?` },
  ];
}
