import { describe, expect, it } from "vitest";
import { type ParsedStep, ParseError, parseStep, parseToolCalls } from "../../src/intent/parse/index.js";
import { type CorpusCase, loadCorpus } from "./corpus/load.js";

const corpus = loadCorpus();

function run(c: CorpusCase): ParsedStep {
  return c.tool_calls ? parseToolCalls(c.tool_calls, c.intents) : parseStep(c.input ?? "", c.intents);
}

describe("parse corpus", () => {
  it("has at least 150 cases across every category, with unique names", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    const categories = new Set(corpus.map((c) => c.category));
    for (const category of ["clean", "extraction", "syntax", "coercion", "nested", "intents", "errors", "tool-calls"]) {
      expect(categories, category).toContain(category);
    }
    const names = corpus.map((c) => `${c.file}/${c.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const c of corpus) {
    it(`${c.category}: ${c.name}`, () => {
      if (c.error !== undefined) {
        let caught: unknown;
        try {
          const result = run(c);
          expect.fail(`expected ParseError(${c.error}) but got ${JSON.stringify(result.value)}`);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(ParseError);
        const error = caught as ParseError;
        expect(error.reason).toBe(c.error);
        expect(error.code).toBe("parse_error");
        expect(error.raw).toBe(c.input ?? JSON.stringify(c.tool_calls));
        for (const text of c.message_includes) expect(error.message).toContain(text);
        return;
      }
      const result = run(c);
      expect(result.value).toEqual(c.expect);
      const kinds = new Set(result.repairs.map((r) => r.kind));
      const wanted = new Set(c.repairs.map((r) => r.split("@")[0]));
      expect([...kinds].sort(), JSON.stringify(result.repairs)).toEqual([...wanted].sort());
      for (const spec of c.repairs.filter((r) => r.includes("@"))) {
        const [kind, path] = spec.split("@");
        expect(result.repairs, spec).toContainEqual(expect.objectContaining({ kind, path }));
      }
    });
  }
});
