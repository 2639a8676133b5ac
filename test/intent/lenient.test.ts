import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as root from "../../src/index.js";
import { ParseError, parseLenient, parseStep } from "../../src/intent/parse/index.js";
import { readNumber } from "../../src/intent/parse/numbers.js";
import { JSONREPAIR_MAX_LINES } from "../../src/intent/parse/syntax.js";
import { schemas } from "./corpus/schemas.js";

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ParseError);
    return error as ParseError;
  }
  return expect.fail("expected a ParseError");
}

describe("parseLenient", () => {
  it("is exported from the package root", () => {
    expect(root.parseLenient).toBe(parseLenient);
  });

  it("tells the model the shape to send and records every attempt", () => {
    const schema = z.object({ name: z.string(), age: z.number().int() });
    const error = parseError(() => parseLenient('Sure: {"name": "Ann", "age": "old"}', schema));
    expect(error.reason).toBe("invalid_value");
    expect(error.code).toBe("parse_error");
    expect(error.message).toContain("{ name: string; age: integer }");
    expect(error.issues.join(" ")).toContain("age");
    expect(error.tried.some((t) => t.includes("block at"))).toBe(true);
  });

  it("names the values of an ambiguous answer and asks for one", () => {
    const error = parseError(() => parseLenient("billing, or maybe shipping", z.enum(["billing", "shipping"])));
    expect(error.reason).toBe("ambiguous");
    expect(error.message).toContain('"billing" and "shipping"');
    expect(error.message).toContain("Name exactly one value.");
  });

  it("keeps the 1 MB limit", () => {
    const error = parseError(() => parseLenient(`"${"x".repeat(1_048_577)}"`, z.string()));
    expect(error.reason).toBe("invalid_json");
    expect(error.message).toContain("the limit is 1048576");
  });

  it("reports a throwing refinement as a ParseError", () => {
    const schema = z.object({ n: z.number() }).refine(() => {
      throw new Error("boom");
    });
    const error = parseError(() => parseLenient('{"n": 1}', schema));
    expect(error.reason).toBe("invalid_value");
    expect(error.message).toContain("boom");
  });

  it("reads only plain scalars with prose: false", () => {
    expect(parseLenient("3 kg", z.number()).value).toBe(3);
    expect(parseError(() => parseLenient("3 kg", z.number(), { prose: false })).reason).toBe("invalid_value");
    expect(parseLenient('"3"', z.number(), { prose: false }).value).toBe(3);
  });

  it("fills defaults and returns zod's output", () => {
    const schema = z.object({ n: z.number().transform((n) => n * 2), tag: z.string().default("x") });
    expect(parseLenient('{"n": "21"}', schema).value).toEqual({ n: 42, tag: "x" });
  });

  it("finishes with a ParseError on hostile input", () => {
    const note = z.object({ title: z.string(), body: z.string() });
    const inputs = [
      "{".repeat(200_000),
      "'".repeat(200_000),
      `{"title": "${'"x", '.repeat(12_000)}}`,
      `{"title": ${"a, b, ".repeat(10_000)}}`,
      `{"title": """${"x".repeat(60_000)}`,
      `{${Array.from({ length: 5_000 }, (_, i) => `k${i}: v`).join(", ")}}`,
    ];
    for (const input of inputs) expect(parseError(() => parseLenient(input, note)).raw).toBe(input);
  });
});

describe("syntax repair on very many lines", () => {
  const many = `{"intent": "done_for_now", "message": ${"x\n".repeat(JSONREPAIR_MAX_LINES + 10)}}`;

  it("parseStep rejects a block of more lines than jsonrepair is given (it is quadratic there)", () => {
    const error = parseError(() => parseStep(many, schemas.calculator ?? []));
    expect(error.reason).toBe("invalid_json");
    expect(error.tried.join(" ")).toContain(`over ${JSONREPAIR_MAX_LINES} lines`);
  });

  it("parseLenient still reads it by the schema", () => {
    const schema = z.object({ intent: z.literal("done_for_now"), message: z.string() });
    const parsed = parseLenient(many, schema);
    expect(parsed.value.message.split("\n")).toHaveLength(JSONREPAIR_MAX_LINES + 10);
    expect(parsed.repairs.map((r) => r.kind)).toContain("unquoted_string");
  });
});

describe("the number rule", () => {
  const cases: [string, number | "ambiguous" | "none"][] = [
    ["1.234", 1.234],
    ["1,234", "ambiguous"],
    ["$1,234", 1234],
    ["£1,234", 1234],
    ["€1,234", "ambiguous"],
    ["1,234.5", 1234.5],
    ["1.234,5", 1234.5],
    ["1,234,567", 1234567],
    ["1.234.567", 1234567],
    ["1,23,456", "none"],
    ["12,50", 12.5],
    ["0,125", 0.125],
    ["12%", 12],
    ["1/2", 0.5],
    ["-3 kg", -3],
    ["3/0", "none"],
    ["three", "none"],
    ["about 40", 40],
    ["3 to 5", 3],
    ["from 3 to 5", "ambiguous"],
  ];
  for (const [text, expected] of cases) {
    it(`${text} → ${expected}`, () => {
      const reading = readNumber(text);
      if (expected === "none") expect(reading === undefined || (!reading.ok && !reading.ambiguous)).toBe(true);
      else if (expected === "ambiguous") expect(reading).toMatchObject({ ok: false, ambiguous: expect.any(Array) });
      else expect(reading).toEqual({ ok: true, value: expected });
    });
  }
});
