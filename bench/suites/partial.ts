/**
 * Partial parsing benchmark (`npx tsx bench/suites/partial.ts`): what
 * `onPartial` costs over a whole streamed answer, against one `parseStep`
 * of the finished answer in the same run. Answers of about 300 B, 4 KB and
 * 40 KB stream in 4-character deltas (text, as in prompt and json modes) and
 * as tool-call argument deltas (tools mode). Medians of interleaved rounds.
 */
import { z } from "zod";
import { partialStream } from "../../src/agent/partial.js";
import { defineIntent } from "../../src/intent/intent.js";
import { parseStep } from "../../src/intent/parse/index.js";

const ROUNDS = Number(process.env.BENCH_PARTIAL_ROUNDS ?? 15);
/** Rounds run first and not counted, so the JIT has compiled the paths measured. */
const WARMUP = 5;
const note = defineIntent(
  "note",
  z.object({ title: z.string(), items: z.array(z.object({ id: z.number(), label: z.string() })) }),
  { description: "Write a note" },
);

function answer(items: number): { text: string; args: string } {
  const args = {
    title: "A note with a title of some length",
    items: Array.from({ length: items }, (_, id) => ({ id, label: `item number ${id}, a few words long` })),
  };
  return { text: JSON.stringify({ intent: "note", ...args }), args: JSON.stringify(args) };
}

function time(fn: () => void): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const rows: string[] = [
  "| answer | one parseStep | onPartial, text deltas | onPartial, tool-argument deltas | re-reads |",
];
rows.push("| --- | --- | --- | --- | --- |");
for (const items of [4, 80, 800]) {
  const { text, args } = answer(items);
  const full: number[] = [];
  const textStream: number[] = [];
  const toolStream: number[] = [];
  let reads = 0;
  for (let round = 0; round < WARMUP + ROUNDS; round++) {
    const once = time(() => parseStep(text, [note]));
    const streamedText = time(() => {
      reads = 0;
      const callbacks = partialStream([note], () => reads++, undefined);
      for (let i = 0; i < text.length; i += 4) callbacks.onText?.(text.slice(i, i + 4));
    });
    const streamedTool = time(() => {
      const callbacks = partialStream([note], () => {}, undefined);
      for (let i = 0; i < args.length; i += 4) callbacks.onToolArguments?.("call_1", "note", args.slice(i, i + 4));
    });
    if (round < WARMUP) continue;
    full.push(once);
    textStream.push(streamedText);
    toolStream.push(streamedTool);
  }
  const kb = text.length >= 1024 ? `${(text.length / 1024).toFixed(1)} KB` : `${text.length} B`;
  const ms = (x: number) => `${x.toFixed(2)} ms`;
  rows.push(`| ${kb} | ${ms(median(full))} | ${ms(median(textStream))} | ${ms(median(toolStream))} | ${reads} |`);
}
console.log(rows.join("\n"));
console.log("\n(onPartial re-reads the prefix after it grew by a 32nd of its length, and when the JSON closes.)");
