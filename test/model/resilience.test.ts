import { describe, expect, it } from "vitest";
import { ModelError, parseRetryAfter, toModelError } from "../../src/model/errors.js";
import { backoffDelay, RateLimiter, withFallback, withResilience } from "../../src/model/resilience.js";
import { scriptedModel } from "../../src/model/scripted.js";
import type { Model } from "../../src/model/types.js";

const request = { messages: [{ role: "user" as const, content: "hi" }] };

describe("Retry-After parsing", () => {
  it("reads retry-after-ms, seconds and HTTP dates", () => {
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "250" }))).toBe(250);
    expect(parseRetryAfter(new Headers({ "retry-after": "2" }))).toBe(2000);
    expect(parseRetryAfter({ "retry-after": "1.5" })).toBe(1500);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter({ "retry-after": "Thu, 01 Jan 2026 00:00:03 GMT" }, now)).toBe(3000);
    expect(parseRetryAfter({ "retry-after": "soon" })).toBeUndefined();
    expect(parseRetryAfter(new Headers())).toBeUndefined();
  });
});

describe("backoff", () => {
  const error = new ModelError("server", "boom");
  it("grows exponentially with jitter in [ceiling/2, ceiling], capped", () => {
    const opts = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(1, error, { ...opts, random: () => 0 })).toBe(50);
    expect(backoffDelay(1, error, { ...opts, random: () => 0.999 })).toBe(100);
    expect(backoffDelay(3, error, { ...opts, random: () => 0 })).toBe(200);
    expect(backoffDelay(10, error, { ...opts, random: () => 0.999 })).toBe(1000);
  });
  it("never waits less than Retry-After (up to the cap)", () => {
    const limited = new ModelError("rate_limited", "slow", { retryAfterMs: 700 });
    expect(backoffDelay(1, limited, { baseDelayMs: 100, random: () => 0 })).toBe(700);
    expect(backoffDelay(1, limited, { baseDelayMs: 100, maxDelayMs: 500 })).toBe(500);
  });
});

describe("withResilience", () => {
  it("retries retryable errors only, and passes non-ModelErrors through as typed errors", async () => {
    const flaky = scriptedModel([
      { error: "net down", code: "network" },
      { error: "timed out", code: "timeout" },
      "ok",
    ]);
    expect((await withResilience(flaky, { baseDelayMs: 1 }).generate(request)).text).toBe("ok");
    const failing: Model = {
      id: "custom",
      generate: async () => {
        throw new Error("weird");
      },
    };
    await expect(withResilience(failing, { baseDelayMs: 1 }).generate(request)).rejects.toMatchObject({
      code: "server",
      message: "custom: weird",
    });
  });

  it("an abort during the backoff wait stops at once", async () => {
    const model = scriptedModel([new ModelError("rate_limited", "slow", { retryAfterMs: 10_000 }), "never"]);
    const controller = new AbortController();
    const pending = withResilience(model).generate({ ...request, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ code: "aborted" });
    expect(model.remaining).toBe(1);
  });
});

describe("RateLimiter", () => {
  it("lets a burst through, then spaces calls at the configured rate, in arrival order", async () => {
    const limiter = new RateLimiter({ requestsPerSecond: 20, burst: 2 });
    const started = Date.now();
    const times: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        await limiter.acquire();
        times[i] = Date.now() - started;
      }),
    );
    expect(times[0]!).toBeLessThan(40);
    expect(times[1]!).toBeLessThan(40);
    // 20/s: the third call waits ~50 ms, the fourth ~100 ms (lower bounds are exact, upper bounds are not asserted).
    expect(times[2]!).toBeGreaterThanOrEqual(45);
    expect(times[3]!).toBeGreaterThanOrEqual(95);
    expect(times[3]!).toBeGreaterThanOrEqual(times[2]!);
  });

  it("rejects a nonsensical rate and can be shared through withResilience", async () => {
    expect(() => new RateLimiter({ requestsPerSecond: 0 })).toThrow(/positive/);
    const model = withResilience(scriptedModel(["a", "b"]), { rateLimit: { requestsPerSecond: 50 } });
    const started = Date.now();
    await model.generate(request);
    await model.generate(request);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });
});

describe("withFallback", () => {
  it("tries the next model when one fails and reports which one answered", async () => {
    const seen: string[] = [];
    const model = withFallback(
      [
        scriptedModel([{ error: "down", code: "server" }], { id: "primary" }),
        scriptedModel([{ error: "bad key", code: "auth" }], { id: "secondary" }),
        scriptedModel(["from the third"], { id: "third" }),
      ],
      { onFallback: ({ from, to, error }) => seen.push(`${from}->${to}:${error.code}`) },
    );
    const result = await model.generate(request);
    expect(result.text).toBe("from the third");
    expect(result.model).toBe("third");
    expect(seen).toEqual(["primary->secondary:server", "secondary->third:auth"]);
    expect(model.id).toBe("primary | secondary | third");
  });

  it("stops on abort and when shouldFallback says no; all failing → one error listing each", async () => {
    const aborted = withFallback([scriptedModel([{ error: "stop", code: "aborted" }]), scriptedModel(["never"])]);
    await expect(aborted.generate(request)).rejects.toMatchObject({ code: "aborted" });
    const strict = withFallback([scriptedModel([{ error: "bad", code: "bad_request" }]), scriptedModel(["never"])], {
      shouldFallback: (e) => e instanceof ModelError && e.retryable,
    });
    await expect(strict.generate(request)).rejects.toMatchObject({ code: "bad_request" });
    const all = withFallback([
      scriptedModel([{ error: "one", code: "server" }], { id: "a" }),
      scriptedModel([{ error: "two", code: "network" }], { id: "b" }),
    ]);
    await expect(all.generate(request)).rejects.toMatchObject({
      code: "network",
      message: expect.stringMatching(/all 2 models failed: .*one.*two/),
    });
    expect(() => withFallback([])).toThrow(RangeError);
  });
});

describe("toModelError", () => {
  it("maps status codes and keeps ModelErrors as they are", () => {
    const e = new ModelError("auth", "x");
    expect(toModelError(e, "m")).toBe(e);
    expect(toModelError({ status: 404, message: "no such model" }, "m").code).toBe("bad_request");
    expect(toModelError({ status: 408, message: "slow" }, "m").code).toBe("timeout");
    expect(toModelError({ status: 403, message: "forbidden" }, "m").code).toBe("auth");
    expect(toModelError(new SyntaxError("Unexpected token <"), "m").message).toContain("malformed response");
  });
});

describe("jsonModeSchema", () => {
  it("wraps a union in an object and unwraps answers; leaves single-object schemas and non-JSON text alone", async () => {
    const { jsonModeSchema } = await import("../../src/model/wire.js");
    const union = { anyOf: [{ type: "object" }, { type: "object" }] };
    const wrapped = jsonModeSchema(union);
    expect(wrapped.schema).toEqual({
      type: "object",
      properties: { step: union },
      required: ["step"],
      additionalProperties: false,
    });
    expect(wrapped.unwrap('{"step":{"intent":"add","a":1,"b":2}}')).toBe('{"intent":"add","a":1,"b":2}');
    expect(wrapped.unwrap('{"intent":"add"}')).toBe('{"intent":"add"}');
    expect(wrapped.unwrap("not json")).toBe("not json");
    const single = { type: "object", properties: { intent: { const: "done_for_now" } } };
    expect(jsonModeSchema(single).schema).toBe(single);
  });
});
