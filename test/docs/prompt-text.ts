import type { Message } from "../../src/model/index.js";

/** Messages as one reviewable text file: role headers, content verbatim, tool calls as JSON. */
export function promptText(messages: readonly Message[]): string {
  const parts = messages.map((m) => {
    const header = [
      `=== ${m.role}`,
      m.name ? ` (${m.name})` : "",
      m.toolCallId ? ` answering ${m.toolCallId}` : "",
      " ===",
    ];
    const calls = (m.toolCalls ?? []).map((c) => `tool call ${c.id}: ${c.name} ${JSON.stringify(c.arguments)}`);
    return [header.join(""), m.content, ...calls].filter((line) => line !== "").join("\n");
  });
  return `${parts.join("\n\n")}\n`;
}
