import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  ERROR_CODES,
  exitCodeOf,
  httpStatusOf,
  isRetryable,
  isTwelveError,
  TwelveError,
  type TwelveErrorCode,
} from "../../src/errors/index.js";
import { raise, TRIGGERS } from "./triggers.js";

const codes = Object.keys(ERROR_CODES) as TwelveErrorCode[];

describe("every error code, raised, maps to the table's exit code and HTTP status", () => {
  it.each(codes)("%s", async (code) => {
    const error = await raise(code);
    const row = ERROR_CODES[code];
    expect(isTwelveError(error), String(error)).toBe(true);
    expect((error as TwelveError).code).toBe(code);
    expect(exitCodeOf(error)).toBe(row.exit);
    expect(httpStatusOf(error)).toBe(row.http);
    expect(isRetryable(error)).toBe(row.retryable);
  });
});

describe("the mapping's rules", () => {
  it("no known code answers HTTP 500 or exits 70 (those are for bugs), nor 1 or 3 (outcomes, not errors)", () => {
    for (const [code, row] of Object.entries(ERROR_CODES)) {
      expect(row.http, code).not.toBe(500);
      expect([2, 4, 130, 141], code).toContain(row.exit);
      expect(row.http >= 400 && row.http < 600, code).toBe(true);
    }
  });

  it("exit 4 is exactly the retryable codes that are not interruptions", () => {
    for (const [code, row] of Object.entries(ERROR_CODES)) {
      if (row.exit === 4) expect(row.retryable, code).toBe(true);
      if (row.retryable) expect([4, 130], code).toContain(row.exit);
    }
  });

  it("an error that is not a TwelveError is a bug: 70 / 500, not retryable", () => {
    for (const error of [
      new Error("boom"),
      new TypeError("x"),
      "a string",
      undefined,
      null,
      { code: "thread_not_found" },
    ]) {
      expect(exitCodeOf(error)).toBe(70);
      expect(httpStatusOf(error)).toBe(500);
      expect(isRetryable(error)).toBe(false);
    }
  });

  it("a TwelveError with a code the table does not list (an application's own) is 2 / 500", () => {
    const error = new TwelveError("deploy_window_closed", "not now");
    expect(exitCodeOf(error)).toBe(2);
    expect(httpStatusOf(error)).toBe(500);
    expect(isRetryable(error)).toBe(false);
    // Object.prototype's keys are not codes.
    for (const code of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(httpStatusOf(new TwelveError(code, "x"))).toBe(500);
    }
  });
});

describe("docs/errors.md says which codes are raised only by construction", () => {
  it("its list is exactly the triggers built by construction", () => {
    const doc = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
    const section = doc.split("<!-- constructed:start -->")[1]?.split("<!-- constructed:end -->")[0] ?? "";
    const listed = [...section.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]).sort();
    const constructed = codes.filter((code) => TRIGGERS[code].how === "construct").sort();
    expect(listed).toEqual(constructed);
  });
});
