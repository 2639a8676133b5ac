import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type AnyIntent, defineIntent } from "../../src/intent/intent.js";
import {
  MAX_ANSWER_LENGTH,
  MAX_NESTING,
  ParseError,
  parseStep,
  parseToolCalls,
  validateStep,
} from "../../src/intent/parse/index.js";
import { schemas } from "./corpus/schemas.js";
import { deepInvalidTree, growIntent } from "./hostile.js";

const calculator = schemas.calculator as AnyIntent[];
const rich = schemas.rich as AnyIntent[];
const MB = 1_000_000;

function parseError(run: () => unknown): ParseError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ParseError);
    return error as ParseError;
  }
  throw new Error("expected a ParseError, but parsing succeeded");
}

describe("parseStep on large and hostile input (must finish, throw only ParseError)", () => {
  it("parses a 1 MB answer whose message is one long string", () => {
    const message = "x".repeat(MB);
    const parsed = parseStep(JSON.stringify({ intent: "done_for_now", message }), calculator);
    expect(parsed.value).toEqual({ intent: "done_for_now", message });
  });

  it("finds the answer after 1 MB of reasoning full of small brace blocks", () => {
    const noise = "we know {x} and {y: 1} and [z]. ".repeat(MB / 32);
    const parsed = parseStep(`${noise}\n{"intent": "add", "a": 1, "b": 2}`, calculator);
    expect(parsed.value).toEqual({ intent: "add", a: 1, b: 2 });
    expect(parsed.repairs.map((r) => r.kind)).toEqual(["text_dropped", "other_blocks_ignored"]);
  });

  it("rejects 1 MB of opening braces", () => {
    expect(parseError(() => parseStep("{".repeat(MB), calculator)).reason).toBe("invalid_json");
  });

  it("rejects 1 MB of nested arrays as too deep, without decoding them", () => {
    const text = `{"intent": "add", "a": ${"[".repeat(MB / 2)}1${"]".repeat(MB / 2)}, "b": 2}`;
    const error = parseError(() => parseStep(text, calculator));
    expect(error.reason).toBe("invalid_json");
    expect(error.message).toContain(`nested more than ${MAX_NESTING} levels deep`);
  });

  it("accepts nesting up to the limit", () => {
    const intents = [defineIntent("deep", z.object({ v: z.any() }), { description: "deep" })];
    const inner = `${"[".repeat(MAX_NESTING - 2)}1${"]".repeat(MAX_NESTING - 2)}`;
    const parsed = parseStep(`{"intent": "deep", "v": ${inner}}`, intents);
    expect(JSON.stringify(parsed.value.v)).toBe(inner);
  });

  it("handles an unclosed 1 MB nesting (truncated) without escaping errors", () => {
    const error = parseError(() => parseStep(`{"intent": "add", "a": ${"[".repeat(MB)}`, calculator));
    expect(["invalid_json", "invalid_arguments"]).toContain(error.reason);
  });

  it("handles 1 MB of quotes, apostrophes and backslashes", () => {
    for (const unit of ["'", '"', "\\", "'{", '"}', "`", "```json\n"]) {
      const error = parseError(() => parseStep(unit.repeat(MB / unit.length), calculator));
      expect(error.code).toBe("parse_error");
    }
  });

  it("handles long runs of spaces, dashes and fences where the YAML fallback looks", () => {
    // A regex with two competing `[ \t]*` took ~9 s on 64 KB of spaces; these must finish promptly.
    for (const text of [
      " ".repeat(65_000),
      `${" ".repeat(65_000)}intent`,
      `-${" ".repeat(65_000)}x\nintent: add`,
      "```\n".repeat(16_000),
      `intent: add\n${"```yaml\n".repeat(8000)}`,
    ]) {
      try {
        parseStep(text, calculator);
      } catch (error) {
        expect(error).toBeInstanceOf(ParseError);
      }
    }
  });

  it("keeps recursive unions over deep values bounded", () => {
    interface Tree {
      kind: "x" | "y";
      kids: Tree[];
    }
    // Members told apart by a literal field (not a declared discriminator): deep values parse, loosely matched.
    const tree: z.ZodType<Tree> = z.lazy(() =>
      z.union([
        z.object({ kind: z.literal("x"), kids: z.array(tree) }),
        z.object({ kind: z.literal("y"), kids: z.array(tree) }),
      ]),
    );
    const intents = [defineIntent("plant", z.object({ root: tree }), { description: "plant a tree" })];
    let value: unknown = { kind: "Y", kids: [] };
    for (let i = 0; i < 60; i++) value = { kind: i % 2 ? "x" : "y", kids: [value] };
    const parsed = parseStep(JSON.stringify({ intent: "plant", root: value }), intents);
    expect(parsed.repairs).toEqual([
      { kind: "literal_normalized", path: `root${".kids.0".repeat(60)}.kind`, from: "Y", to: "y" },
    ]);

    // Members with nothing to tell them apart, over a deep invalid value: the union budget ends the search.
    const text = JSON.stringify({ intent: "grow", root: deepInvalidTree(60) });
    const error = parseError(() => parseStep(text, [growIntent]));
    expect(error.reason).toBe("invalid_arguments");
  });

  it("handles 1 MB of single-quoted almost-JSON", () => {
    const items = Array.from({ length: MB / 20 }, (_, i) => `'item ${i}'`).join(", ");
    const parsed = parseStep(
      `{'intent': 'create_ticket', 'title': 't', 'priority': 'low', 'labels': [${items},]}`,
      rich,
    );
    expect((parsed.value.labels as string[]).length).toBe(MB / 20);
    expect(parsed.repairs.map((r) => r.kind).sort()).toEqual(["single_quotes", "trailing_comma"]);
  });

  it("handles 1 MB of whitespace around a small answer", () => {
    const pad = " \n\t".repeat(MB / 6);
    expect(parseStep(`${pad}{"intent": "add", "a": 1, "b": 2}${pad}`, calculator).repairs).toEqual([]);
  });

  it("rejects answers over the size limit with a clear message", () => {
    const error = parseError(() => parseStep(" ".repeat(MAX_ANSWER_LENGTH + 1), calculator));
    expect(error.reason).toBe("invalid_json");
    expect(error.message).toContain(`limit is ${MAX_ANSWER_LENGTH}`);
  });

  it("turns a non-string answer into a ParseError rather than a TypeError", () => {
    expect(parseError(() => parseStep(undefined as unknown as string, calculator)).reason).toBe("no_json");
    expect(parseError(() => parseStep(42 as unknown as string, calculator)).reason).toBe("no_json");
  });

  it("reports a throwing custom refinement as a ParseError", () => {
    const intents = [
      defineIntent(
        "check",
        z.object({
          n: z.number().refine(() => {
            throw new Error("refinement exploded");
          }),
        }),
        { description: "check" },
      ),
    ];
    const error = parseError(() => parseStep('{"intent": "check", "n": 1}', intents));
    expect(error.reason).toBe("invalid_arguments");
    expect(error.message).toContain("refinement exploded");
  });

  it("never lets a __proto__ key change an object's prototype", () => {
    const record = parseStep(
      '{"intent": "create_ticket", "title": "t", "priority": "low", "labels": [], "links": {"__proto__": "x", "a": "b"}}',
      rich,
    );
    const links = record.value.links as Record<string, unknown>;
    expect(links).toEqual({ a: "b" });
    expect(Object.getPrototypeOf(links)).toBe(Object.prototype);
    const step = parseStep('{"intent": "add", "a": 1, "b": 2, "__proto__": {"a": 5, "polluted": true}}', calculator);
    expect(step.value).toEqual({ intent: "add", a: 1, b: 2 });
    expect(Object.getPrototypeOf(step.value)).toBe(Object.prototype);
    expect(step.repairs).toEqual([{ kind: "extra_key_dropped", path: "__proto__", from: "{a, polluted}" }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("ParseError content (what the model reads next turn)", () => {
  it("keeps the raw answer and what was tried", () => {
    const raw = 'Thinking...\n{"intent": "divide", "a": 1}\n{"note": 1}';
    const error = parseError(() => parseStep(raw, calculator));
    expect(error.raw).toBe(raw);
    expect(error.reason).toBe("invalid_arguments");
    expect(error.intent).toBe("divide");
    expect(error.issues).toEqual(["b: Invalid input: expected number, received undefined"]);
    expect(error.tried).toHaveLength(2);
    expect(error.tried.join("\n")).toContain("invalid_arguments");
    expect(error.details).toMatchObject({ reason: "invalid_arguments", intent: "divide" });
  });

  it("shows the intended shape when the arguments are wrong", () => {
    const error = parseError(() => parseStep('{"intent": "divide", "a": "x", "b": 2}', calculator));
    expect(error.message).toBe(
      [
        'Your answer could not be used as a step: the arguments for "divide" are invalid.',
        "Problems: a: Invalid input: expected number, received string.",
        "Answer again with one JSON object of this shape:",
        "// Divide a by b",
        '{ intent: "divide"; a: number; b: number }',
      ].join("\n"),
    );
  });

  it("lists the intents when the intent is unknown", () => {
    const error = parseError(() => parseStep('{"intent": "power", "a": 2, "b": 8}', calculator));
    expect(error.message).toBe(
      [
        'Your answer could not be used as a step: "power" is not one of the intents.',
        'Answer again with one JSON object whose "intent" is one of: add, subtract, multiply, divide, request_human_input, done_for_now.',
      ].join("\n"),
    );
    expect(error.intent).toBe("power");
  });

  it("says there is no JSON when there is none", () => {
    const error = parseError(() => parseStep("The answer is 4.", calculator));
    expect(error.message.split("\n")[0]).toBe(
      "Your answer could not be used as a step: the answer contains no JSON object.",
    );
    expect(error.tried).toEqual(["no JSON object found in the answer"]);
  });
});

describe("validateStep and parseToolCalls", () => {
  it("validateStep aligns an already-decoded value and appends to the given repairs", () => {
    const repairs = [{ kind: "from_caller", path: "" }];
    const parsed = validateStep({ intent: "Add", a: "1", b: 2 }, calculator, "raw text", repairs);
    expect(parsed.value).toEqual({ intent: "add", a: 1, b: 2 });
    expect(parsed.repairs.map((r) => r.kind)).toEqual(["from_caller", "intent_normalized", "string_to_number"]);
  });

  it("validateStep throws ParseError with the caller's raw text", () => {
    const error = parseError(() => validateStep("nope", calculator, "the raw", []));
    expect(error.raw).toBe("the raw");
    expect(error.reason).toBe("invalid_json");
  });

  it("parseToolCalls keeps the calls as the raw text of its errors", () => {
    const calls = [{ id: "1", name: "divide", arguments: '{"a": 1' }];
    const error = parseError(() => parseToolCalls(calls, calculator));
    expect(error.raw).toBe(JSON.stringify(calls));
    expect(error.reason).toBe("invalid_arguments");
    expect(error.intent).toBe("divide");
  });

  it("reports each repair with kind, path, from and to", () => {
    const parsed = parseStep('{"intent": "add", "a": "3", "b": [4]}', calculator);
    expect(parsed.repairs).toEqual([
      { kind: "string_to_number", path: "a", from: "3", to: 3 },
      { kind: "array_unwrapped", path: "b", from: [4], to: 4 },
    ]);
  });
});

describe("tool-call arguments at the limits", () => {
  it("rejects tool-call arguments nested too deeply", () => {
    const args = `{"a": ${"[".repeat(MAX_NESTING + 10)}1${"]".repeat(MAX_NESTING + 10)}, "b": 2}`;
    const error = parseError(() => parseToolCalls([{ id: "1", name: "add", arguments: args }], calculator));
    expect(error.reason).toBe("invalid_json");
    expect(error.message).toContain("levels deep");
  });
});
