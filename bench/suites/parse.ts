/**
 * Structured-output parser benchmark (`npx tsx bench/suites/parse.ts`).
 *
 * 1. Success rate on the corpus (test/intent/corpus/*.yaml): twelve's
 *    parseStep / parseToolCalls vs two baselines run on the same cases in
 *    the same process: `JSON.parse` + zod, and `jsonrepair` + zod (zod =
 *    the agent's step union schema). A recoverable case counts when the
 *    exact expected step comes out; an unrecoverable one when it is rejected.
 * 2. Microseconds per parse (median, p99) for a typical ~300-byte step and a
 *    ~5 KB step, clean and messy, for the same three parsers. Variants run
 *    interleaved (round robin) after a warm-up so machine noise hits all alike.
 *    Target: median under 200 µs for the 300-byte step.
 * 3. Prompt tokens: the TypeScript-like rendering vs the JSON schema.
 * 4. Worst cases: 1 MB answers (must finish; time per parse).
 *
 * Every section also runs "twelve v1": the parser as it was before
 * parseLenient, frozen in bench/baselines/parse-v1/, so old and new are
 * compared in the same run. Section 5 scores parseLenient on the lenient
 * corpus (test/intent/corpus/lenient/*.yaml, any zod schema) per category.
 */
import { isDeepStrictEqual } from "node:util";
import { encode } from "gpt-tokenizer";
import { jsonrepair } from "jsonrepair";
import type { z } from "zod";
import { type AnyIntent, stepSchema } from "../../src/intent/intent.js";
import { parseLenient, parseStep, parseToolCalls } from "../../src/intent/parse/index.js";
import { renderIntentSchemas, stepJsonSchema } from "../../src/intent/schema-text.js";
import { loadLenientCorpus } from "../../test/intent/corpus/lenient/load.js";
import { type CorpusCase, loadCorpus } from "../../test/intent/corpus/load.js";
import { schemas } from "../../test/intent/corpus/schemas.js";
import { deepInvalidTree, growIntent } from "../../test/intent/hostile.js";
import { coerceContext as coerceContextV1, coerce as coerceV1 } from "../baselines/parse-v1/coerce.js";
import { findCandidates as findCandidatesV1 } from "../baselines/parse-v1/extract.js";
import { parseStep as parseStepV1, parseToolCalls as parseToolCallsV1 } from "../baselines/parse-v1/index.js";
import { decodeJson as decodeJsonV1 } from "../baselines/parse-v1/syntax.js";

type Parser = (c: Pick<CorpusCase, "input" | "tool_calls" | "intents">) => unknown;

/** Baseline: what you get with no lenience — strict JSON, then the zod union. */
const unions = new WeakMap<readonly AnyIntent[], ReturnType<typeof stepSchema>>();
/** The agent's step union, built once per intent set (as an agent would). */
function unionOf(intents: readonly AnyIntent[]) {
  let schema = unions.get(intents);
  if (!schema) {
    schema = stepSchema(intents);
    unions.set(intents, schema);
  }
  return schema;
}

function strictBaseline(decode: (text: string) => unknown): Parser {
  return (c) => {
    const schema = unionOf(c.intents);
    let value: unknown;
    if (c.tool_calls) {
      const call = c.tool_calls[0];
      if (!call) throw new Error("no tool call");
      const args = typeof call.arguments === "string" ? decode(call.arguments) : call.arguments;
      value = { ...(args as object), intent: call.name };
    } else {
      value = decode(c.input ?? "");
    }
    const result = schema.safeParse(value);
    if (!result.success) throw new Error("invalid");
    return result.data;
  };
}

const parsers: Record<string, Parser> = {
  twelve: (c) => (c.tool_calls ? parseToolCalls(c.tool_calls, c.intents) : parseStep(c.input ?? "", c.intents)).value,
  "twelve v1": (c) =>
    (c.tool_calls ? parseToolCallsV1(c.tool_calls, c.intents) : parseStepV1(c.input ?? "", c.intents)).value,
  "JSON.parse + zod": strictBaseline((text) => JSON.parse(text)),
  "jsonrepair + zod": strictBaseline((text) => JSON.parse(jsonrepair(text))),
};
const names = Object.keys(parsers);
/** Timed too: the general parser doing a step's job, on the agent's step union. */
const latencyParsers: Record<string, Parser> = {
  ...parsers,
  "parseLenient (step union)": (c) => parseLenient(c.input ?? "", unionOf(c.intents)).value,
};
const latencyNames = Object.keys(latencyParsers);

function attempt(parser: Parser, c: CorpusCase): { value?: unknown } {
  try {
    return { value: parser(c) };
  } catch {
    return {};
  }
}

function pct(n: number, d: number): string {
  return d === 0 ? "-" : `${((100 * n) / d).toFixed(1)}%`;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

// 1. Corpus success rate.
const corpus = loadCorpus();
const categories = [...new Set(corpus.map((c) => c.category))];
const score: Record<string, Record<string, { ok: number; total: number }>> = {};
for (const name of names) {
  score[name] = {};
  for (const category of [...categories, "recoverable", "unrecoverable", "all"]) {
    (score[name] as Record<string, { ok: number; total: number }>)[category] = { ok: 0, total: 0 };
  }
}
for (const c of corpus) {
  for (const name of names) {
    const outcome = attempt(parsers[name] as Parser, c);
    const ok = c.expect !== undefined ? isDeepStrictEqual(outcome.value, c.expect) : outcome.value === undefined;
    const buckets = [c.category, c.expect !== undefined ? "recoverable" : "unrecoverable", "all"];
    for (const bucket of buckets) {
      const cell = score[name]?.[bucket] as { ok: number; total: number };
      cell.total++;
      if (ok) cell.ok++;
    }
  }
}
console.log(`## Corpus success rate (${corpus.length} cases)\n`);
console.log("Recoverable: the exact expected step comes out. Unrecoverable: the answer is rejected.\n");
console.log(
  table(
    ["cases", ...names],
    [...categories, "recoverable", "unrecoverable", "all"].map((bucket) => {
      const total = score[names[0] as string]?.[bucket]?.total ?? 0;
      return [
        `${bucket} (${total})`,
        ...names.map((n) => {
          const cell = score[n]?.[bucket] as { ok: number; total: number };
          return `${cell.ok} (${pct(cell.ok, cell.total)})`;
        }),
      ];
    }),
  ),
);

// 2. Latency.
const deploy = schemas.deploy as AnyIntent[];
const rich = schemas.rich as AnyIntent[];
const small = {
  intent: "deploy_backend",
  tag: "v2.14.3",
  environment: "production",
  dry_run: false,
  replicas: 4,
  notes:
    "Release 2.14.3 fixes the login timeout (#812) and the CSV export encoding bug. Rolled out to staging yesterday at 14:00; no errors since. Deploying during the low-traffic window.",
};
const smallClean = JSON.stringify(small);
const smallMessy = [
  "The user wants the tested tag in production. Staging has been fine since yesterday, so I'll deploy it now.",
  "```json",
  JSON.stringify({ ...small, environment: "Production", replicas: "4", dry_run: "false" }, null, 2).replace(
    /\n}$/,
    ",\n}",
  ),
  "```",
].join("\n");
const big = {
  intent: "create_ticket",
  title: "Checkout fails for customers with saved cards after the 2.14 release",
  priority: "urgent",
  labels: Array.from({ length: 110 }, (_, i) => `area-${i}`),
  assignee: { name: "Dana Whitfield", email: "dana@example.com" },
  estimate_hours: 6,
  blocked: false,
  links: Object.fromEntries(
    Array.from({ length: 70 }, (_, i) => [`trace_${i}`, `https://logs.example.com/trace/${(i * 7919).toString(16)}`]),
  ),
};
const bigClean = JSON.stringify(big);
const bigMessy = `Here is the ticket:\n\`\`\`json\n${JSON.stringify({ ...big, priority: "URGENT", estimate_hours: "6" }, null, 2).replace(/\n}$/, ",\n}")}\n\`\`\``;

/** `BENCH_PARSE_SCALE=0.1` for a quick run; 1 is what docs/benchmarks/parse.md reports. */
const SCALE = Number(process.env.BENCH_PARSE_SCALE ?? 1);
const inputs: { label: string; text: string; intents: AnyIntent[]; iterations: number }[] = [
  { label: "300 B clean", text: smallClean, intents: deploy, iterations: Math.max(100, Math.round(20_000 * SCALE)) },
  { label: "300 B messy", text: smallMessy, intents: deploy, iterations: Math.max(100, Math.round(20_000 * SCALE)) },
  { label: "5 KB clean", text: bigClean, intents: rich, iterations: Math.max(100, Math.round(5_000 * SCALE)) },
  { label: "5 KB messy", text: bigMessy, intents: rich, iterations: Math.max(100, Math.round(5_000 * SCALE)) },
];

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

console.log("\n## Microseconds per parse (median / p99)\n");
console.log("Messy = reasoning + fence + trailing comma + enum case + numbers/booleans as strings.\n");
const latencyRows: string[][] = [];
for (const input of inputs) {
  const c = { input: input.text, intents: input.intents };
  const samples: Record<string, number[]> = Object.fromEntries(latencyNames.map((n) => [n, []]));
  const okFor: Record<string, boolean> = {};
  for (const name of latencyNames)
    okFor[name] = attempt(latencyParsers[name] as Parser, c as CorpusCase).value !== undefined;
  const warmup = Math.floor(input.iterations / 10);
  for (let i = 0; i < warmup + input.iterations; i++) {
    for (const name of latencyNames) {
      const parser = latencyParsers[name] as Parser;
      const start = process.hrtime.bigint();
      try {
        parser(c);
      } catch {
        // Baselines fail on messy input; the time to fail is what they cost.
      }
      const elapsed = Number(process.hrtime.bigint() - start) / 1000;
      if (i >= warmup) (samples[name] as number[]).push(elapsed);
    }
  }
  latencyRows.push([
    `${input.label} (${Buffer.byteLength(input.text)} B)`,
    ...latencyNames.map((name) => {
      const sorted = (samples[name] as number[]).sort((a, b) => a - b);
      const mark = okFor[name] ? "" : " ✗";
      return `${quantile(sorted, 0.5).toFixed(1)} / ${quantile(sorted, 0.99).toFixed(1)}${mark}`;
    }),
  ]);
}
console.log(table(["input", ...latencyNames], latencyRows));
console.log("\n✗ = that parser does not produce the step for this input (time to fail shown).");

// 3. Prompt tokens.
console.log("\n## Prompt tokens for the intents (gpt-tokenizer, o200k)\n");
console.log(
  table(
    ["intent set", "TS-like rendering", "JSON schema (stepJsonSchema)", "ratio"],
    Object.entries(schemas).map(([name, intents]) => {
      const rendered = encode(renderIntentSchemas(intents)).length;
      const json = encode(JSON.stringify(stepJsonSchema(intents))).length;
      return [name, String(rendered), String(json), (rendered / json).toFixed(2)];
    }),
  ),
);

// 4. Worst cases.
const MB = 1_000_000;
const calculator = schemas.calculator as AnyIntent[];
const worst: { label: string; text: string; intents?: AnyIntent[] }[] = [
  { label: "1 MB message string", text: JSON.stringify({ intent: "done_for_now", message: "x".repeat(MB) }) },
  {
    label: "1 MB reasoning with brace blocks, answer last",
    text: `${"we know {x} and {y: 1} and [z]. ".repeat(MB / 32)}{"intent": "add", "a": 1, "b": 2}`,
  },
  { label: "1 MB of `{`", text: "{".repeat(MB) },
  { label: "1 MB of `'`", text: "'".repeat(MB) },
  {
    label: "recursive union, nothing to tell members apart, 60-deep invalid value",
    text: JSON.stringify({ intent: "grow", root: deepInvalidTree(60) }),
    intents: [growIntent],
  },
  { label: "64 KB line of spaces, then `intent: add`", text: `${" ".repeat(65_000)}\nintent: add` },
  {
    label: "4 KB adversarial YAML (`a: a: a: …`, the YAML fallback's cap)",
    text: `${"a: ".repeat(1360)}\nintent: add`,
  },
  { label: "1 MB nested arrays", text: `{"intent": "add", "a": ${"[".repeat(MB / 2)}1${"]".repeat(MB / 2)}, "b": 2}` },
];
console.log("\n## Hostile answers (twelve vs twelve v1, interleaved; milliseconds, median of 15, alternating order)\n");
const hostileParsers = { twelve: parseStep, "twelve v1": parseStepV1 };
console.log(
  table(
    ["input", "twelve ms", "twelve v1 ms", "v1 / twelve", "outcome"],
    worst.map(({ label, text, intents: intentsFor = calculator }) => {
      const times: Record<string, number[]> = { twelve: [], "twelve v1": [] };
      const outcomes: Record<string, string> = {};
      for (let i = 0; i < 15; i++) {
        // Alternate who goes first: garbage left by one 1 MB parse is collected during the next.
        const order = Object.entries(hostileParsers);
        for (const [name, parse] of i % 2 ? order.reverse() : order) {
          const start = process.hrtime.bigint();
          try {
            parse(text, intentsFor);
            outcomes[name] = "step";
          } catch (error) {
            outcomes[name] = `ParseError (${(error as { reason?: string }).reason})`;
          }
          (times[name] as number[]).push(Number(process.hrtime.bigint() - start) / 1e6);
        }
      }
      const median = (name: string) =>
        quantile(
          (times[name] as number[]).sort((a, b) => a - b),
          0.5,
        );
      const outcome =
        outcomes.twelve === outcomes["twelve v1"]
          ? outcomes.twelve
          : `${outcomes.twelve} (v1: ${outcomes["twelve v1"]})`;
      return [
        label,
        median("twelve").toFixed(1),
        median("twelve v1").toFixed(1),
        `${(median("twelve v1") / median("twelve")).toFixed(2)}×`,
        outcome ?? "",
      ];
    }),
  ),
);

// 5. The lenient corpus: any zod schema, per category.
type Lenient = (input: string, schema: z.ZodType) => unknown;
const lenientParsers: Record<string, Lenient> = {
  parseLenient: (input, schema) => parseLenient(input, schema).value,
  "twelve v1 stages by hand": (input, schema) => {
    // What a user could compose from v1's stages: find blocks, repair syntax, coerce, zod.
    const blocks = findCandidatesV1(input);
    const values: unknown[] = blocks.length === 0 ? [input.trim()] : [];
    for (const block of blocks) {
      const decoded = decodeJsonV1(block.text, block.missing);
      if (decoded.ok) values.push(decoded.value);
    }
    try {
      values.unshift(JSON.parse(input));
    } catch {
      // not JSON as a whole
    }
    for (const value of values) {
      const coerced = coerceV1(schema as never, value, null, coerceContextV1([]));
      const result = schema.safeParse(coerced);
      if (result.success) return result.data;
    }
    throw new Error("invalid");
  },
  "JSON.parse + zod": (input, schema) => schema.parse(JSON.parse(input)),
  "jsonrepair + zod": (input, schema) => schema.parse(JSON.parse(jsonrepair(input))),
};
const lenientNames = Object.keys(lenientParsers);
const lenientCorpus = loadLenientCorpus();
const lenientCategories = [...new Set(lenientCorpus.map((c) => c.category))];
const lenientScore: Record<string, Record<string, { ok: number; total: number }>> = {};
const lenientBuckets = [...lenientCategories, "recoverable", "unrecoverable", "all"];
for (const name of lenientNames) {
  lenientScore[name] = Object.fromEntries(lenientBuckets.map((b) => [b, { ok: 0, total: 0 }]));
}
for (const c of lenientCorpus) {
  for (const name of lenientNames) {
    let value: unknown;
    let failed = false;
    try {
      value = (lenientParsers[name] as Lenient)(c.input, c.schema);
    } catch {
      failed = true;
    }
    const ok = c.hasExpect ? !failed && isDeepStrictEqual(value, c.expect) : failed;
    for (const bucket of [c.category, c.hasExpect ? "recoverable" : "unrecoverable", "all"]) {
      const cell = lenientScore[name]?.[bucket] as { ok: number; total: number };
      cell.total++;
      if (ok) cell.ok++;
    }
  }
}
console.log(`\n## Lenient corpus: any zod schema (${lenientCorpus.length} cases)\n`);
console.log(
  "Recoverable: exactly the expected value comes out. Unrecoverable (ambiguous or invalid): the answer is rejected.\n",
);
console.log(
  table(
    ["cases", ...lenientNames],
    lenientBuckets.map((bucket) => {
      const total = lenientScore[lenientNames[0] as string]?.[bucket]?.total ?? 0;
      return [
        `${bucket} (${total})`,
        ...lenientNames.map((n) => {
          const cell = lenientScore[n]?.[bucket] as { ok: number; total: number };
          return `${cell.ok} (${pct(cell.ok, cell.total)})`;
        }),
      ];
    }),
  ),
);
