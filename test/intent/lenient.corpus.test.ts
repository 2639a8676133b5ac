import { describe, expect, it } from "vitest";
import { ParseError, parseLenient } from "../../src/intent/parse/index.js";
import { loadLenientCorpus } from "./corpus/lenient/load.js";

const corpus = loadLenientCorpus();

describe("lenient corpus (parseLenient against named zod schemas)", () => {
  it("covers every shape of issue #14 with unique names", () => {
    const categories = new Set(corpus.map((c) => c.category));
    for (const category of [
      "scalar-prose",
      "numbers",
      "booleans",
      "unquoted-strings",
      "code",
      "top-level-objects",
      "object-from-scalar",
      "unicode",
      "recursive",
      "constraints",
      "structures",
    ]) {
      expect(categories, category).toContain(category);
    }
    const names = corpus.map((c) => `${c.file}/${c.name}`);
    expect(new Set(names).size).toBe(names.length);
    // Every documented ambiguity has a case.
    expect(corpus.filter((c) => c.error === "ambiguous").length).toBeGreaterThanOrEqual(5);
  });

  for (const c of corpus) {
    it(`${c.category}: ${c.name}`, () => {
      if (c.error !== undefined) {
        let caught: unknown;
        try {
          const result = parseLenient(c.input, c.schema);
          expect.fail(`expected ParseError(${c.error}) but got ${JSON.stringify(result.value)}`);
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(ParseError);
        const error = caught as ParseError;
        expect(error.reason, error.message).toBe(c.error);
        expect(error.code).toBe("parse_error");
        expect(error.raw).toBe(c.input);
        expect(error.tried.length).toBeGreaterThan(0);
        for (const text of c.message_includes) expect(error.message).toContain(text);
        return;
      }
      const result = parseLenient(c.input, c.schema);
      expect(result.value).toEqual(c.expect);
      if (c.repairs) {
        const kinds = result.repairs.map((r) => r.kind);
        if (c.repairs.length === 0) expect(result.repairs).toEqual([]);
        for (const spec of c.repairs) {
          const [kind, path] = spec.split("@");
          if (path === undefined) expect(kinds, JSON.stringify(result.repairs)).toContain(kind);
          else expect(result.repairs, spec).toContainEqual(expect.objectContaining({ kind, path }));
        }
      }
    });
  }
});
