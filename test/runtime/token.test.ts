import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { approve } from "../../src/agent/events.js";
import { type AgentRuntime, createRuntime } from "../../src/runtime/index.js";
import {
  answerFromToken,
  checkRequestToken,
  type RequestTokenClaims,
  signRequestToken,
  TokenError,
  type TokenKey,
  tokenBy,
  verifyRequestToken,
} from "../../src/runtime/token.js";
import { memoryStore } from "../../src/store/memory.js";
import { type HumanRequest, requestId } from "../../src/thread/request.js";
import { deploybotAgent, planningModel } from "../crash/fixtures/agents.js";

const NOW = new Date("2025-06-01T12:00:00.000Z");
const NOW_S = NOW.getTime() / 1000;
const oldKey: TokenKey = { kid: "k1", secret: randomBytes(32) };
const newKey: TokenKey = { kid: "k2", secret: "a string secret of at least 32 bytes, fine" };
const hex = (n: number) => randomBytes(n / 2).toString("hex");
/** A request id as the runtime makes them: thr_ and evt_ + 20 hex characters. */
const realisticId = requestId(`thr_${hex(20)}`, `evt_${hex(20)}`);

const claims = (over: Partial<RequestTokenClaims> = {}): RequestTokenClaims => ({
  requestId: realisticId,
  digest: "Zx3y8Qk2mN5pR7tV9wB1cD",
  aud: "slack",
  exp: NOW_S + 3600,
  sub: "alice.longname@engineering.example.com",
  decision: "approve",
  ...over,
});

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as { code: string }).code;
  }
  return "ok";
};
const codeAsync = async (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => "ok",
    (error: { code: string }) => error.code,
  );

describe("request tokens", () => {
  it("round trips, with and without the optional fields", () => {
    const token = signRequestToken(claims(), { keys: [oldKey], now: NOW });
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(verifyRequestToken(token, { keys: [oldKey], aud: "slack", now: NOW })).toEqual({
      v: 1,
      kid: "k1",
      ...claims(),
    });

    const bare = claims({ digest: "", aud: "email" });
    delete bare.sub;
    delete bare.decision;
    const payload = verifyRequestToken(signRequestToken(bare, { keys: [oldKey], now: NOW }), {
      keys: [oldKey],
      aud: "email",
      now: NOW,
    });
    expect(payload).toEqual({ v: 1, kid: "k1", ...bare });
    expect(tokenBy(payload)).toBeUndefined();
    expect(tokenBy({ sub: "bob" })).toEqual({ id: "bob", via: "link" });
  });

  it("stays under Slack's 255-character action_id with realistic ids, a 40-character sub and a decision", () => {
    const sub = "alice.longname@eng-team.example-corp.com";
    expect(sub).toHaveLength(40);
    expect(realisticId.length).toBeGreaterThanOrEqual(75);
    const token = signRequestToken(claims({ sub, decision: "run_again" }), { keys: [oldKey], now: NOW });
    expect(token.length).toBeLessThan(255);
    expect(token.length).toBeLessThanOrEqual(190); // measured 189; the margin is for longer key ids
  });

  it("rotates: the first key signs, every key verifies, a dropped key is unknown", () => {
    const old = signRequestToken(claims(), { keys: [oldKey], now: NOW });
    expect(verifyRequestToken(old, { keys: [newKey, oldKey], aud: "slack", now: NOW }).kid).toBe("k1");

    const fresh = signRequestToken(claims(), { keys: [newKey, oldKey], now: NOW });
    expect(verifyRequestToken(fresh, { keys: [newKey, oldKey], aud: "slack", now: NOW }).kid).toBe("k2");
    expect(verifyRequestToken(fresh, { keys: [newKey], aud: "slack", now: NOW }).kid).toBe("k2");

    expect(code(() => verifyRequestToken(old, { keys: [newKey], aud: "slack", now: NOW }))).toBe("token_unknown_key");
  });

  it("refuses a token signed with another secret under the same key id", () => {
    const token = signRequestToken(claims(), { keys: [oldKey], now: NOW });
    const impostor = { kid: "k1", secret: randomBytes(32) };
    expect(code(() => verifyRequestToken(token, { keys: [impostor], aud: "slack", now: NOW }))).toBe("token_invalid");
  });

  it("refuses every single-character change", () => {
    const token = signRequestToken(claims(), { keys: [oldKey], now: NOW });
    const verify = (t: string) => code(() => verifyRequestToken(t, { keys: [oldKey], aud: "slack", now: NOW }));
    const flip = (t: string, i: number) => t.slice(0, i) + (t[i] === "A" ? "B" : "A") + t.slice(i + 1);

    // Controlled: character 4 holds the top 6 bits of exp (byte 3), which decode to any value.
    expect(verify(flip(token, 4))).toBe("token_invalid");
    // The MAC part.
    expect(verify(flip(token, token.length - 1))).toBe("token_invalid");

    const seen = new Set<string>();
    for (let i = 0; i < token.length; i++) {
      if (token[i] === ".") continue;
      const outcome = verify(flip(token, i));
      // Decodable changes fail the MAC; others break decoding, or name another key (the kid bytes).
      expect(["token_invalid", "token_malformed", "token_unknown_key"]).toContain(outcome);
      seen.add(outcome);
    }
    expect(seen.has("token_invalid")).toBe(true);

    for (const bad of ["", "nope", `${token}x`, token.replace(".", ""), `!${token}`, `${token}.x`]) {
      expect(verify(bad)).toBe("token_malformed");
    }
  });

  it("refuses an expired token, and one made for another audience", () => {
    const token = signRequestToken(claims({ exp: NOW_S + 60 }), { keys: [oldKey], now: NOW });
    const at = (seconds: number) => new Date((NOW_S + seconds) * 1000);
    expect(verifyRequestToken(token, { keys: [oldKey], aud: "slack", now: at(59) }).exp).toBe(NOW_S + 60);
    expect(code(() => verifyRequestToken(token, { keys: [oldKey], aud: "slack", now: at(60) }))).toBe("token_expired");
    expect(code(() => verifyRequestToken(token, { keys: [oldKey], aud: "email", now: NOW }))).toBe("token_audience");
    const error = (() => {
      try {
        verifyRequestToken(token, { keys: [oldKey], aud: "inbox", now: NOW });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TokenError);
    expect(String((error as Error).message)).not.toContain(token);
  });

  it("refuses short secrets and bad claims when signing (token_key_invalid)", () => {
    const short = { kid: "k", secret: "x".repeat(31) };
    expect(code(() => signRequestToken(claims(), { keys: [short], now: NOW }))).toBe("token_key_invalid");
    expect(code(() => verifyRequestToken("a.b", { keys: [short], aud: "slack" }))).toBe("token_key_invalid");
    expect(code(() => signRequestToken(claims(), { keys: [{ kid: "k", secret: randomBytes(16) }] }))).toBe(
      "token_key_invalid",
    );
    expect(code(() => signRequestToken(claims(), { keys: [], now: NOW }))).toBe("token_key_invalid");
    expect(code(() => signRequestToken(claims(), { keys: [oldKey, oldKey], now: NOW }))).toBe("token_key_invalid");
    expect(code(() => signRequestToken(claims({ exp: NOW_S }), { keys: [oldKey], now: NOW }))).toBe(
      "token_key_invalid",
    );
    expect(code(() => signRequestToken(claims({ requestId: "rq_nope" }), { keys: [oldKey], now: NOW }))).toBe(
      "token_key_invalid",
    );
    expect(code(() => signRequestToken(claims({ sub: "" }), { keys: [oldKey], now: NOW }))).toBe("token_key_invalid");
  });
});

describe("request tokens against a runtime", () => {
  let effects: string;
  let rt: AgentRuntime;
  const keys = [newKey, oldKey];

  beforeEach(() => {
    effects = mkdtempSync(join(tmpdir(), "twelve-token-"));
    rt = createRuntime({ store: memoryStore(), agents: deploybotAgent(effects), model: planningModel() });
  });
  afterEach(() => {
    rmSync(effects, { recursive: true, force: true });
  });

  const paused = async (): Promise<HumanRequest> => {
    const started = await rt.start("deploybot", "deploy:v1.2.0");
    if (started.request?.kind !== "approval") throw new Error(`expected an approval, got ${started.state.status}`);
    return started.request;
  };
  const tokenFor = (request: HumanRequest, over: Partial<RequestTokenClaims> = {}) =>
    signRequestToken(
      {
        requestId: request.id,
        digest: request.argsDigest ?? "",
        aud: "email",
        exp: Math.floor(Date.now() / 1000) + 600,
        sub: "alice@example.com",
        ...over,
      },
      { keys },
    );

  it("checks a token for a pending request, and refuses it once the request is answered", async () => {
    const request = await paused();
    const token = tokenFor(request);
    const { payload, request: checked } = await checkRequestToken(rt, token, { keys, aud: "email" });
    expect(checked).toEqual(request);
    expect(payload.requestId).toBe(request.id);
    expect(token.length).toBeLessThan(255);

    await rt.answer(approve(request, { by: { id: "bob", via: "api" } }));
    const error = await checkRequestToken(rt, token, { keys, aud: "email" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "already_answered" });
    expect(JSON.stringify((error as { details: unknown }).details)).toContain("bob");
  });

  it("refuses a token whose digest is not the request's (request_changed)", async () => {
    const request = await paused();
    const token = tokenFor(request, { digest: "AAAAAAAAAAAAAAAAAAAAAA" });
    expect(await codeAsync(checkRequestToken(rt, token, { keys, aud: "email" }))).toBe("request_changed");
  });

  it("refuses another decision than the one a token is bound to (invalid_decision)", async () => {
    const request = await paused();
    const { payload } = await checkRequestToken(rt, tokenFor(request, { decision: "approve" }), { keys, aud: "email" });
    expect(code(() => answerFromToken(payload, { decision: "reject", feedback: "no" }))).toBe("invalid_decision");
    expect(answerFromToken(payload, { decision: "approve" }).decision).toBe("approve");
  });

  it("answers from a token: the addressee is recorded as by, via link", async () => {
    const request = await paused();
    const { payload } = await checkRequestToken(rt, tokenFor(request, { decision: "approve" }), { keys, aud: "email" });
    const answer = answerFromToken(payload, { decision: "approve" });
    expect(answer).toEqual({
      decision: "approve",
      requestId: request.id,
      digest: request.argsDigest,
      by: { id: "alice@example.com", via: "link" },
    });
    const out = await rt.answer(answer);
    expect(out.state.status).toBe("done");
    const approval = out.thread.events.find((e) => e.type === "approval");
    expect(approval?.meta).toMatchObject({
      requestId: request.id,
      decision: "approve",
      digest: request.argsDigest,
      by: { id: "alice@example.com", via: "link" },
    });
  });
});
