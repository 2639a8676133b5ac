import { ConfigError } from "./errors.js";

/**
 * Every setting can come from the environment; a variable that is set wins
 * over the config file. Lists have a compact form and a JSON form (a value
 * starting with `[`). docs/server.md lists the same variables.
 */
export const ENV_VARS = {
  TWELVE_PUBLIC_URL: "publicUrl",
  TWELVE_STORE: "store",
  TWELVE_MODEL: "model",
  TWELVE_PORT: "server.port",
  TWELVE_HOST: "server.host",
  TWELVE_BODY_LIMIT: "server.bodyLimit",
  TWELVE_TRUST_PROXY: "server.trustProxy",
  TWELVE_SHUTDOWN_GRACE_MS: "server.shutdownGraceMs",
  TWELVE_MAX_WAIT_SECONDS: "server.maxWaitSeconds",
  TWELVE_API_KEYS: "secrets.apiKeys",
  TWELVE_TOKEN_SECRETS: "secrets.tokens",
  TWELVE_COOKIE_SECRETS: "secrets.cookies",
  TWELVE_WEBHOOK_SECRETS: "secrets.webhooks",
  TWELVE_WEBHOOKS: "webhooks.endpoints",
  TWELVE_WEBHOOK_RETRY_FOR_MS: "webhooks.retryForMs",
  TWELVE_SWEEP_INTERVAL_MS: "workers.sweepIntervalMs",
} as const;

export type EnvVar = keyof typeof ENV_VARS;

const words = (text: string) => text.split(/[\s;]+/).filter((w) => w !== "");

function json(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError("config_invalid", `${name}: not valid JSON (${(error as Error).message})`, { env: name });
  }
}

function number(_name: string, text: string): unknown {
  const n = Number(text);
  // Left as text when it is not a number, so the schema names the variable and says what it expected.
  return text.trim() !== "" && Number.isFinite(n) ? n : text;
}

function boolean(name: string, text: string): boolean {
  const value = text.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(value)) return true;
  if (["0", "false", "no", "off", ""].includes(value)) return false;
  throw new ConfigError("config_invalid", `${name}: expected true or false, got "${text}"`, { env: name });
}

/**
 * `name:key[:ro][:agent1,agent2]`, separated by spaces, newlines or `;`.
 * A name listed twice is one key's rotation (both keys work).
 */
function apiKeys(name: string, text: string): unknown {
  if (text.trim().startsWith("[")) return json(name, text);
  return words(text).map((entry, i) => {
    const [keyName, key, ...rest] = entry.split(":");
    if (!keyName || !key) {
      throw new ConfigError(
        "config_invalid",
        `${name}: entry ${i + 1} is not name:key[:ro][:agent1,agent2] (got "${entry.slice(0, 12)}…")`,
        { env: name, entry: i },
      );
    }
    const out: Record<string, unknown> = { name: keyName, key };
    for (const part of rest) {
      if (part === "ro") out.readOnly = true;
      else if (part !== "") out.agents = part.split(",").filter((a) => a !== "");
    }
    return out;
  });
}

/** `kid:secret` entries (the first one signs). */
function tokenKeys(name: string, text: string): unknown {
  if (text.trim().startsWith("[")) return json(name, text);
  return words(text).map((entry, i) => {
    const at = entry.indexOf(":");
    if (at <= 0) {
      throw new ConfigError("config_invalid", `${name}: entry ${i + 1} is not kid:secret`, { env: name, entry: i });
    }
    return { kid: entry.slice(0, at), secret: entry.slice(at + 1) };
  });
}

function list(name: string, text: string): unknown {
  return text.trim().startsWith("[") ? json(name, text) : words(text);
}

/** Webhook endpoints: URLs separated by spaces, or a JSON array of `{url, events?, agents?, secrets?}`. */
function endpoints(name: string, text: string): unknown {
  return text.trim().startsWith("[") ? json(name, text) : words(text).map((url) => ({ url }));
}

const READERS: Record<EnvVar, (name: string, text: string) => unknown> = {
  TWELVE_PUBLIC_URL: (_n, t) => t,
  TWELVE_STORE: (_n, t) => t,
  TWELVE_MODEL: (_n, t) => t,
  TWELVE_PORT: number,
  TWELVE_HOST: (_n, t) => t,
  TWELVE_BODY_LIMIT: number,
  TWELVE_TRUST_PROXY: boolean,
  TWELVE_SHUTDOWN_GRACE_MS: number,
  TWELVE_MAX_WAIT_SECONDS: number,
  TWELVE_API_KEYS: apiKeys,
  TWELVE_TOKEN_SECRETS: tokenKeys,
  TWELVE_COOKIE_SECRETS: list,
  TWELVE_WEBHOOK_SECRETS: list,
  TWELVE_WEBHOOKS: endpoints,
  TWELVE_WEBHOOK_RETRY_FOR_MS: number,
  TWELVE_SWEEP_INTERVAL_MS: number,
};

/** The settings the environment gives, as `{path: value}`, plus which variable gave each path. */
export function fromEnv(env: Record<string, string | undefined>): { values: Map<string, unknown> } {
  const values = new Map<string, unknown>();
  for (const name of Object.keys(ENV_VARS) as EnvVar[]) {
    const text = env[name];
    if (text === undefined || text === "") continue;
    values.set(ENV_VARS[name], READERS[name](name, text));
  }
  return { values };
}

/** The variable that sets a config path, if any (for error messages). */
export function envVarOf(path: string): EnvVar | undefined {
  return (Object.keys(ENV_VARS) as EnvVar[]).find((name) => ENV_VARS[name] === path);
}
