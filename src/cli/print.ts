import { stringify } from "yaml";
import { stepArguments } from "../thread/builtin.js";
import type { Event } from "../thread/event.js";

export interface Printer {
  event(e: Event): void;
  line(text: string): void;
}

const inline = (value: unknown): string => {
  if (typeof value === "string") return value;
  const text = JSON.stringify(value);
  return text && text.length <= 100 ? text : `\n${indent(stringify(value ?? null, { lineWidth: 0 }).trimEnd())}`;
};
const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");

/** One readable line (or a short block) per event, as it happens. */
export function printer(write: (text: string) => void, color: boolean): Printer {
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  return {
    line: (text) => write(`${text}\n`),
    event(e) {
      const kind = e.meta?.kind;
      if (kind === "started") return;
      if (kind === "step") {
        const args = stepArguments(e);
        const policy = e.meta?.policy === "run" ? "" : paint(2, ` [${e.meta?.policy}]`);
        write(`${paint(36, "→")} ${paint(1, e.type)} ${inline(args)}${policy}\n`);
        return;
      }
      if (kind === "result") return write(`${paint(32, "✓")} ${e.type}: ${inline(e.data)}\n`);
      if (e.type === "error") return write(`${paint(31, "✗ error:")} ${inline(e.data)}\n`);
      if (e.type === "failed") return write(`${paint(31, "■ failed:")} ${inline(e.data)}\n`);
      write(`${paint(33, "•")} ${e.type}: ${inline(e.data)}\n`);
    },
  };
}
