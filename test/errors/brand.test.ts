import { describe, expect, it } from "vitest";
import {
  exitCodeOf,
  httpStatusOf,
  isTwelveError,
  RequestError,
  TwelveError,
  type TwelveError as TwelveErrorType,
} from "../../src/errors/index.js";
import { ModelError } from "../../src/model/errors.js";
import { ThreadNotFoundError } from "../../src/store/errors.js";

/** Another copy of the errors module (a project's own twelve next to a global CLI): a distinct module instance. */
async function otherCopy(): Promise<{ TwelveError: typeof TwelveErrorType; RequestError: typeof RequestError }> {
  const url = new URL("../../src/errors/index.ts", import.meta.url);
  url.searchParams.set("copy", "2");
  return import(/* @vite-ignore */ url.href);
}

describe("TwelveError.is works across copies of twelve", () => {
  it("loads a second, distinct copy of the class", async () => {
    const other = await otherCopy();
    expect(other.TwelveError).not.toBe(TwelveError);
  });

  it("recognises the other copy's errors, with is, isTwelveError and instanceof", async () => {
    const other = await otherCopy();
    const foreign = new other.RequestError("already_answered", "answered by bob");
    expect(Object.getPrototypeOf(Object.getPrototypeOf(foreign))).not.toBe(TwelveError.prototype);
    expect(TwelveError.is(foreign)).toBe(true);
    expect(isTwelveError(foreign)).toBe(true);
    expect(foreign instanceof TwelveError).toBe(true);
    expect(exitCodeOf(foreign)).toBe(2);
    expect(httpStatusOf(foreign)).toBe(409);
    // And the other way round.
    expect(other.TwelveError.is(new ThreadNotFoundError("t"))).toBe(true);
  });

  it("keeps instanceof of subclasses a prototype check", async () => {
    const other = await otherCopy();
    const foreign = new other.RequestError("request_changed", "x");
    expect(foreign instanceof RequestError).toBe(false);
    expect(new ModelError("timeout", "x") instanceof ModelError).toBe(true);
    expect(new ModelError("timeout", "x") instanceof TwelveError).toBe(true);
    expect(new TwelveError("timeout", "x") instanceof ModelError).toBe(false);
    expect(new ThreadNotFoundError("t") instanceof RequestError).toBe(false);
  });

  it("needs the brand and a string code: look-alikes are not TwelveErrors", () => {
    const brand = Symbol.for("twelve.error");
    const lookAlike = Object.assign(new Error("x"), { code: "thread_not_found" });
    expect(TwelveError.is(lookAlike)).toBe(false);
    expect(lookAlike instanceof TwelveError).toBe(false);
    expect(exitCodeOf(lookAlike)).toBe(70);
    expect(TwelveError.is({ [brand]: true, code: 42 })).toBe(false);
    expect(TwelveError.is({ [brand]: true, code: "thread_not_found" })).toBe(true);
    for (const value of [null, undefined, "thread_not_found", 42, Symbol("x")]) {
      expect(TwelveError.is(value)).toBe(false);
    }
  });

  it("the brand is on the prototype, not an own enumerable property (JSON and spreads stay clean)", () => {
    const error = new TwelveError("thread_not_found", "x", { threadId: "t" });
    expect(Object.getOwnPropertySymbols(error)).toEqual([]);
    expect(Object.keys(error)).not.toContain("twelve.error");
  });
});
