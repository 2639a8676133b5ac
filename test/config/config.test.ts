import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, defineConfig, loadConfig } from "../../src/config/index.js";
import { TwelveError } from "../../src/errors/index.js";
import { calculator } from "../server/helpers.js";

const dir = () => mkdtempSync(join(tmpdir(), "twelve-config-"));
const failure = async (p: Promise<unknown>): Promise<TwelveError> => {
  try {
    await p;
  } catch (error) {
    if (error instanceof TwelveError) return error;
    throw error;
  }
  throw new Error("expected a failure");
};

describe("loadConfig", () => {
  it("without a file or environment: the defaults", async () => {
    const c = await loadConfig({ cwd: dir(), env: {} });
    expect(c.source).toBeUndefined();
    expect(c.agents).toEqual([]);
    expect(c.server).toEqual({
      port: 8787,
      host: "127.0.0.1",
      bodyLimit: 1048576,
      trustProxy: false,
      shutdownGraceMs: 25000,
      maxWaitSeconds: 60,
    });
    expect(c.secrets).toEqual({ apiKeys: [], tokens: [], cookies: [], webhooks: [] });
    expect(c.channels).toEqual({});
    expect(c.schedules).toEqual([]);
  });

  it("loads twelve.config.ts through tsx, with agents and a model per agent", async () => {
    const d = dir();
    writeFileSync(
      join(d, "twelve.config.ts"),
      `import { defineConfig } from ${JSON.stringify(join(process.cwd(), "src/config/index.ts"))};
const port: number = 9999;
export default defineConfig({
  agents: [{ agent: "./agents/calc.ts", model: "rules:./rules.json" }, "./agents/other.ts"],
  model: "script:steps.json",
  store: "postgres://db/twelve",
  publicUrl: "https://agents.example.com/",
  server: { port },
  secrets: { apiKeys: [{ name: "ci", key: ["old-key-0123456789abcdef", "new-key-0123456789abcdef"], agents: ["calc"] }] },
  webhooks: { endpoints: [{ url: "https://hooks.example.com/twelve", events: ["thread.done"] }] },
});
`,
    );
    const c = await loadConfig({ cwd: d, env: {} });
    expect(c.source).toBe(join(d, "twelve.config.ts"));
    expect(c.baseDir).toBe(d);
    expect(c.agents).toEqual([
      { agent: "./agents/calc.ts", model: "rules:./rules.json" },
      { agent: "./agents/other.ts" },
    ]);
    expect(c.model).toBe("script:steps.json");
    expect(c.publicUrl).toBe("https://agents.example.com");
    expect(c.server.port).toBe(9999);
    expect(c.secrets.apiKeys[0]).toMatchObject({ name: "ci", agents: ["calc"] });
    expect(c.webhooks.endpoints).toEqual([{ url: "https://hooks.example.com/twelve", events: ["thread.done"] }]);
  });

  it("takes agent objects and models in code (defineConfig is typed)", async () => {
    const { agent } = calculator();
    const config = defineConfig({ agents: { calculator: { agent, model: "rules:x.json" } } });
    const c = await loadConfig({ config, env: {} });
    expect(c.agents[0]?.agent).toBe(agent);
    expect(c.agents[0]?.model).toBe("rules:x.json");
  });

  it("every setting comes from the environment, and the environment wins over the file", async () => {
    const env = {
      TWELVE_PUBLIC_URL: "https://public.example.com",
      TWELVE_STORE: "memory:",
      TWELVE_MODEL: "rules:r.json",
      TWELVE_PORT: "0",
      TWELVE_HOST: "0.0.0.0",
      TWELVE_BODY_LIMIT: "2048",
      TWELVE_TRUST_PROXY: "true",
      TWELVE_SHUTDOWN_GRACE_MS: "1000",
      TWELVE_MAX_WAIT_SECONDS: "5",
      TWELVE_API_KEYS:
        "ci:ci-key-0123456789abcdef:ro alice:alice-key-0123456789abc::calc,ops;ci:ci-key-new-0123456789abc",
      TWELVE_TOKEN_SECRETS: "k2:a-token-secret-that-is-long-enough-32b k1:an-older-secret-that-is-long-enough-xx",
      TWELVE_COOKIE_SECRETS: "cookie-secret-0123456789abcdef0123456789",
      TWELVE_WEBHOOK_SECRETS: "whsec_new whsec_old",
      TWELVE_WEBHOOKS: "https://a.example.com/h https://b.example.com/h",
      TWELVE_WEBHOOK_RETRY_FOR_MS: "60000",
      TWELVE_SWEEP_INTERVAL_MS: "500",
    };
    const c = await loadConfig({ config: { server: { port: 1234 }, publicUrl: "https://file.example.com" }, env });
    expect(c.publicUrl).toBe("https://public.example.com");
    expect(c.store).toBe("memory:");
    expect(c.model).toBe("rules:r.json");
    expect(c.server).toEqual({
      port: 0,
      host: "0.0.0.0",
      bodyLimit: 2048,
      trustProxy: true,
      shutdownGraceMs: 1000,
      maxWaitSeconds: 5,
    });
    expect(c.secrets.apiKeys).toEqual([
      { name: "ci", key: "ci-key-0123456789abcdef", readOnly: true },
      { name: "alice", key: "alice-key-0123456789abc", agents: ["calc", "ops"] },
      { name: "ci", key: "ci-key-new-0123456789abc" },
    ]);
    expect(c.secrets.tokens.map((t) => t.kid)).toEqual(["k2", "k1"]);
    expect(c.secrets.cookies).toHaveLength(1);
    expect(c.secrets.webhooks).toEqual(["whsec_new", "whsec_old"]);
    expect(c.webhooks).toEqual({
      endpoints: [{ url: "https://a.example.com/h" }, { url: "https://b.example.com/h" }],
      retryForMs: 60000,
    });
    expect(c.workers.sweepIntervalMs).toBe(500);
    const fromJson = await loadConfig({
      env: { TWELVE_API_KEYS: '[{"name":"j","key":"json-key-0123456789abcdef","readOnly":true}]' },
    });
    expect(fromJson.secrets.apiKeys).toEqual([{ name: "j", key: "json-key-0123456789abcdef", readOnly: true }]);
  });

  it("a bad setting fails with one line naming the file (or variable) and the setting: config_invalid", async () => {
    const d = dir();
    writeFileSync(
      join(d, "twelve.config.mjs"),
      "export default { secrets: { apiKeys: [{ name: 'ci', key: 'short' }] } };\n",
    );
    const e = await failure(loadConfig({ cwd: d, env: {} }));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.code).toBe("config_invalid");
    expect(e.message).toBe("twelve.config.mjs: secrets.apiKeys[0].key: an API key needs at least 16 characters");
    expect(e.message).not.toContain("\n");

    const port = await failure(loadConfig({ env: { TWELVE_PORT: "eighty" } }));
    expect(port.message).toMatch(/^TWELVE_PORT: /);
    const keys = await failure(loadConfig({ env: { TWELVE_API_KEYS: "just-a-key" } }));
    expect(keys.message).toBe('TWELVE_API_KEYS: entry 1 is not name:key[:ro][:agent1,agent2] (got "just-a-key…")');
    const proxy = await failure(loadConfig({ env: { TWELVE_TRUST_PROXY: "maybe" } }));
    expect(proxy.message).toBe('TWELVE_TRUST_PROXY: expected true or false, got "maybe"');
    const json = await failure(loadConfig({ env: { TWELVE_WEBHOOKS: "[{" } }));
    expect(json.message).toMatch(/^TWELVE_WEBHOOKS: not valid JSON/);
    const unknown = await failure(loadConfig({ config: { sever: {} } as never, env: {} }));
    expect(unknown.message).toContain('Unrecognized key: "sever"');
    const url = await failure(loadConfig({ config: { webhooks: { endpoints: [{ url: "ftp://x" }] } }, env: {} }));
    expect(url.message).toBe("config: webhooks.endpoints[0].url: expected an http(s) URL");
    const event = await failure(
      loadConfig({
        config: { webhooks: { endpoints: [{ url: "https://x.example", events: ["thread.exploded" as never] }] } },
        env: {},
      }),
    );
    expect(event.code).toBe("config_invalid");
  });

  it("a named file that is not there → config_not_found; one that throws → config_invalid with its message", async () => {
    const d = dir();
    const missing = await failure(loadConfig({ cwd: d, path: "nope.config.ts", env: {} }));
    expect(missing.code).toBe("config_not_found");
    const viaEnv = await failure(loadConfig({ cwd: d, env: { TWELVE_CONFIG: "other.ts" } }));
    expect(viaEnv.code).toBe("config_not_found");
    writeFileSync(join(d, "broken.config.mjs"), "throw new Error('boom at load');\n");
    const broken = await failure(loadConfig({ cwd: d, path: "broken.config.mjs", env: {} }));
    expect(broken.code).toBe("config_invalid");
    expect(broken.message).toBe("config file broken.config.mjs failed to load: boom at load");
    writeFileSync(join(d, "array.config.mjs"), "export default [1, 2];\n");
    const array = await failure(loadConfig({ cwd: d, path: "array.config.mjs", env: {} }));
    expect(array.message).toBe("array.config.mjs: the default export must be an object (use defineConfig({...}))");
  });
});
