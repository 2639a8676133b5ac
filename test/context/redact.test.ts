import { describe, expect, it } from "vitest";
import { normalizeKey } from "../../src/context/redact.js";
import {
  chatMessages,
  createThread,
  DEFAULT_SECRET_KEYS,
  json,
  makeEvent,
  redactValue,
  xmlYaml,
} from "../../src/index.js";
import { deterministicRuntime } from "../../src/testing.js";

const OPENAI = "sk-proj-ABCDEFGHIJKLMNOPQRSTUV";
const SECRET = "s3cr3t-value";

const visible = (value: unknown): string => JSON.stringify(value);

describe("custom patterns add to the built-in ones", () => {
  it("an sk-proj key is still hidden when a custom pattern is given", () => {
    const options = { patterns: [/\bacme_[0-9]+\b/g] };
    const out = redactValue({ note: `use ${OPENAI} or acme_1234` }, options);
    expect(out).toEqual({ note: "use [REDACTED] or [REDACTED]" });

    // Through every renderer, with the options in RenderOptions.redact.
    const rt = deterministicRuntime();
    const thread = createThread("x", [makeEvent(rt, "user_message", `key ${OPENAI}, internal acme_99`)]);
    for (const render of [xmlYaml({ redact: options }), json({ redact: options }), chatMessages({ redact: options })]) {
      const text = visible(render(thread));
      expect(text).not.toContain(OPENAI);
      expect(text).not.toContain("acme_99");
      expect(text).toContain("[REDACTED]");
    }
  });

  it("custom keys add to the built-in keys too", () => {
    expect(redactValue({ password: "a", mine: "b", ok: "c" }, { keys: /^mine$/ })).toEqual({
      password: "[REDACTED]",
      mine: "[REDACTED]",
      ok: "c",
    });
  });

  it("a pattern without the g flag hides every match, keeping its other flags", () => {
    const once = /acme_\d/;
    expect(redactValue("acme_1, acme_2 and acme_3", { patterns: [once] })).toBe(
      "[REDACTED], [REDACTED] and [REDACTED]",
    );
    // The i flag is kept.
    expect(redactValue("ACME_1 acme_2 Acme_3", { patterns: [/acme_\d/i], defaults: false })).toBe(
      "[REDACTED] [REDACTED] [REDACTED]",
    );
    // A sticky pattern would stop at the first gap: it hides every match as well.
    expect(redactValue("x acme_1 acme_2 acme_3", { patterns: [/acme_\d/y], defaults: false })).toBe(
      "x [REDACTED] [REDACTED] [REDACTED]",
    );
    // The caller's pattern is left as it was.
    expect(once.flags).toBe("");
    expect(once.lastIndex).toBe(0);
  });

  it("no state carries over between strings, calls or keys (lastIndex)", () => {
    const options = { patterns: [/acme_\d/g], keys: /^mine$/g };
    const value = { a: "acme_1 acme_2 acme_3", b: ["acme_4", "acme_5 acme_6"], mine: 1, c: { mine: 2 } };
    const expected = {
      a: "[REDACTED] [REDACTED] [REDACTED]",
      b: ["[REDACTED]", "[REDACTED] [REDACTED]"],
      mine: "[REDACTED]",
      c: { mine: "[REDACTED]" },
    };
    for (let i = 0; i < 3; i++) expect(redactValue(value, options)).toEqual(expected);
    // A fresh options object each time (as `redact: {…}` inline would be) behaves the same.
    for (let i = 0; i < 3; i++) expect(redactValue(value, { ...options })).toEqual(expected);
  });

  it("defaults: false uses only what is given, none of the built-ins", () => {
    const value = { password: "hunter2", mine: "b", note: `${OPENAI} acme_1 acme_2` };
    expect(redactValue(value, { patterns: [/acme_\d/], keys: /^mine$/, defaults: false })).toEqual({
      password: "hunter2",
      mine: "[REDACTED]",
      note: `${OPENAI} [REDACTED] [REDACTED]`,
    });
    // With nothing of your own, nothing is redacted.
    expect(redactValue(value, { defaults: false })).toEqual(value);
    // defaults: true (the default) is the same as leaving it out.
    expect(redactValue(value, { patterns: [/acme_\d/], defaults: true })).toEqual(
      redactValue(value, { patterns: [/acme_\d/] }),
    );
  });

  it("the replacement is taken literally", () => {
    expect(redactValue({ token: "x", note: OPENAI }, { replacement: "<$&>" })).toEqual({
      token: "<$&>",
      note: "<$&>",
    });
  });
});

describe("secret key names", () => {
  const names = [
    "authToken",
    "auth_token",
    "aws_secret_access_key",
    "aws_session_token",
    "db_password",
    "x-api-key",
    "client_secret",
    "private_key",
    "refresh_token",
    "access_token",
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "token",
    // Other spellings of the same names.
    "AUTH_TOKEN",
    "Auth-Token",
    "X-Api-Key",
    "xApiKey",
    "apiKey",
    "APIKey",
    "clientSecret",
    "AWS_SECRET_ACCESS_KEY",
    "awsSecretAccessKey",
    "privateKey",
    "DB_PASSWORD",
    "Authorization",
    "set-cookie",
    "credentials",
    "accesstoken",
    "pass",
  ];

  it.each(names)("hides %s in nested objects and arrays", (name) => {
    const value = {
      top: { [name]: SECRET },
      list: [{ [name]: SECRET }, [{ deeper: { [name]: { nested: SECRET } } }]],
      ok: "kept",
    };
    const out = redactValue(value) as { top: Record<string, unknown>; ok: string };
    expect(visible(out)).not.toContain(SECRET);
    expect(out.top[name]).toBe("[REDACTED]");
    expect(out.ok).toBe("kept");
    // The stored value is not touched.
    expect(value.top[name]).toBe(SECRET);
  });

  const innocent = [
    "tokens_used",
    "tokensUsed",
    "max_tokens",
    "maxTokens",
    "input_tokens",
    "token_count",
    "token_type",
    "tokenizer",
    "password_policy",
    "passwordMinLength",
    "secret_name",
    "secretsManagerArn",
    "key",
    "keys",
    "primary_key",
    "sort_key",
    "idempotency_key",
    "passenger",
    "compass",
    "bypass",
    "author",
    "monkey",
    "keyboard",
    "page_token",
    "next_page_token",
    "nextPageToken",
    "nextToken",
    "continuation_token",
    "cookies_accepted",
  ];

  it.each(innocent)("leaves %s alone", (name) => {
    const value = { [name]: "visible", nested: [{ [name]: "visible" }] };
    expect(redactValue(value)).toEqual(value);
  });

  it("matches across camelCase, -, _ and case", () => {
    expect(normalizeKey("authToken")).toBe("auth_token");
    expect(normalizeKey("X-Api-Key")).toBe("x_api_key");
    expect(normalizeKey("OpenAIApiKey")).toBe("open_ai_api_key");
    expect(normalizeKey("AWS_SECRET_ACCESS_KEY")).toBe("aws_secret_access_key");
    expect(normalizeKey("already_snake")).toBe("already_snake");
    // The exported pattern is written for the normalized form, and still usable as a custom `keys`.
    expect(DEFAULT_SECRET_KEYS.test("x_api_key")).toBe(true);
    expect(redactValue({ "X-Api-Key": "k", ok: 1 }, { keys: DEFAULT_SECRET_KEYS, defaults: false })).toEqual({
      "X-Api-Key": "[REDACTED]",
      ok: 1,
    });
  });
});
