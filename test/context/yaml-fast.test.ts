import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { fastYaml, toYaml } from "../../src/context/yaml-fast.js";

const reference = (v: unknown) => stringify(v, { lineWidth: 0 }).trimEnd();

// Strings near the fast path's edge: identifiers, versions, words, reserved words, numbers-as-text.
const edgyString = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9 _.,/()+=@:#'"-]{0,12}$/),
  fc.constantFrom(
    "true",
    "False",
    "NULL",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "~",
    "0.6",
    "1e3",
    "v1.2.3",
    "a  b",
    "a ",
    "@x",
    "- x",
  ),
  fc.string(),
);
const key = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/),
  fc.constantFrom("true", "a b", "1", "intent"),
  fc.string(),
);
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    edgyString,
    fc.array(tie("node"), { maxLength: 4 }),
    fc.dictionary(key, tie("node"), { maxKeys: 4 }),
  ),
})).node;

describe("fast YAML emitter", () => {
  it("writes exactly what the yaml package writes, for any JSON value", () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(toYaml(v)).toBe(reference(v));
      }),
      { numRuns: 3000 },
    );
  });

  it("matches on typical event data", () => {
    for (const v of [
      { intent: "deploy_backend", tag: "v1.2.3", environment: "production" },
      { tags: [{ name: "v1.2.3", commit: "abc123", date: "Mar 15" }] },
      { approved: false, feedback: "use 5 instead of 4" },
      [{ a: { b: 1 }, c: 2 }],
      0.6,
    ]) {
      expect(toYaml(v)).toBe(reference(v));
      // ...and without the slow path: the point of the emitter.
      expect(fastYaml(v)).toBe(reference(v));
    }
  });
});
