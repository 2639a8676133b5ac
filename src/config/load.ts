import { dirname, relative, resolve } from "node:path";
import type { z } from "zod";
import type { Agent } from "../agent/agent.js";
import { TwelveError } from "../errors/index.js";
import type { Model } from "../model/types.js";
import type { ThreadStore } from "../store/types.js";
import { envVarOf, fromEnv } from "./env.js";
import { ConfigError } from "./errors.js";
import { exists, importFile } from "./module.js";
import { type ApiKeyConfig, configSchema, type TwelveConfig, type WebhookEndpointConfig } from "./schema.js";

/** The names `twelve serve` looks for in the working directory when no --config is given. */
export const CONFIG_FILES = ["twelve.config.ts", "twelve.config.mts", "twelve.config.js", "twelve.config.mjs"];

export const DEFAULTS = {
  port: 8787,
  host: "127.0.0.1",
  bodyLimit: 1024 * 1024,
  shutdownGraceMs: 25_000,
  maxWaitSeconds: 60,
  retryForMs: 3 * 24 * 3600 * 1000,
  sweepIntervalMs: 30_000,
} as const;

/** The config after the file, the environment and the defaults are merged and checked. */
export interface ResolvedConfig {
  /** The file it came from (absent when there is none). */
  source?: string;
  /** Where relative agent paths resolve from (the config file's directory, else the working directory). */
  baseDir: string;
  agents: { agent: Agent | string; model?: Model | string }[];
  model?: Model | string;
  store?: string | ThreadStore;
  publicUrl?: string;
  server: {
    port: number;
    host: string;
    bodyLimit: number;
    trustProxy: boolean;
    shutdownGraceMs: number;
    maxWaitSeconds: number;
  };
  secrets: {
    apiKeys: ApiKeyConfig[];
    tokens: { kid: string; secret: string }[];
    cookies: string[];
    webhooks: string[];
  };
  webhooks: { endpoints: WebhookEndpointConfig[]; retryForMs: number };
  channels: Record<string, unknown>;
  schedules: Record<string, unknown>[];
  workers: { sweepIntervalMs: number };
  prices: Record<string, Record<string, number>>;
}

export interface LoadConfigOptions {
  /** An explicit config file (--config or $TWELVE_CONFIG): it must exist. */
  path?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** A config given in code instead of a file (tests, embedding). */
  config?: TwelveConfig;
}

/** Sets `a.b.c` in a plain object, copying each level it touches. */
function setPath(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split(".") as [string, ...string[]];
  if (rest.length === 0) return { ...target, [head]: value };
  const inner = target[head];
  const base = inner && typeof inner === "object" && !Array.isArray(inner) ? (inner as Record<string, unknown>) : {};
  return { ...target, [head]: setPath(base, rest.join("."), value) };
}

function describeIssue(issue: z.core.$ZodIssue, source: string, fromEnv: ReadonlySet<string>): string {
  const path = issue.path.map(String);
  // A value an environment variable set names that variable instead of the file.
  for (let i = path.length; i > 0; i--) {
    const env = fromEnv.has(path.slice(0, i).join(".")) ? envVarOf(path.slice(0, i).join(".")) : undefined;
    if (env) {
      const rest = path.slice(i);
      return `${env}${rest.length ? ` (${rest.join(".")})` : ""}: ${issue.message}`;
    }
  }
  const where = path.length
    ? path.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "")
    : "(top level)";
  return `${source}: ${where}: ${issue.message}`;
}

/**
 * Loads `twelve.config.ts` (or the file named), lays the environment over
 * it, checks it with the schema and fills in the defaults. A bad setting
 * throws one line naming the file (or the variable) and the setting:
 * `config_invalid`; a named file that is not there: `config_not_found`.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  let raw: unknown = options.config ?? {};
  let source: string | undefined;
  const named = options.path ?? (env.TWELVE_CONFIG || undefined);
  if (options.config === undefined) {
    if (named !== undefined) {
      source = resolve(cwd, named);
      if (!(await exists(source))) {
        throw new ConfigError("config_not_found", `config file ${named} not found (looked at ${source})`, {
          path: source,
        });
      }
    } else {
      for (const name of CONFIG_FILES) {
        if (await exists(resolve(cwd, name))) {
          source = resolve(cwd, name);
          break;
        }
      }
    }
    if (source) raw = await importConfig(source, cwd);
  }
  const label = source ? relative(cwd, source) || source : "config";
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError("config_invalid", `${label}: the default export must be an object (use defineConfig({...}))`);
  }
  let merged = raw as Record<string, unknown>;
  const { values } = fromEnv(env);
  for (const [path, value] of values) merged = setPath(merged, path, value);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const [first] = parsed.error.issues;
    const more = parsed.error.issues.length - 1;
    throw new ConfigError(
      "config_invalid",
      `${first ? describeIssue(first, label, new Set(values.keys())) : `${label}: invalid`}${more > 0 ? ` (and ${more} more)` : ""}`,
      { issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) },
    );
  }
  const c = parsed.data;
  const agents = !c.agents
    ? []
    : (Array.isArray(c.agents) ? c.agents : Object.values(c.agents)).map((entry) =>
        typeof entry === "object" && "agent" in entry && !("intents" in entry)
          ? { agent: entry.agent, ...(entry.model !== undefined && { model: entry.model }) }
          : { agent: entry as Agent | string },
      );
  const names = new Set<string>();
  for (const key of c.secrets?.apiKeys ?? []) names.add(key.name);
  return {
    ...(source && { source }),
    baseDir: source ? dirname(source) : cwd,
    agents,
    ...(c.model !== undefined && { model: c.model }),
    ...(c.store !== undefined && { store: c.store }),
    ...(c.publicUrl !== undefined && { publicUrl: c.publicUrl.replace(/\/+$/, "") }),
    server: {
      port: c.server?.port ?? DEFAULTS.port,
      host: c.server?.host ?? DEFAULTS.host,
      bodyLimit: c.server?.bodyLimit ?? DEFAULTS.bodyLimit,
      trustProxy: c.server?.trustProxy ?? false,
      shutdownGraceMs: c.server?.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs,
      maxWaitSeconds: c.server?.maxWaitSeconds ?? DEFAULTS.maxWaitSeconds,
    },
    secrets: {
      apiKeys: c.secrets?.apiKeys ?? [],
      tokens: c.secrets?.tokens ?? [],
      cookies: c.secrets?.cookies ?? [],
      webhooks: c.secrets?.webhooks ?? [],
    },
    webhooks: { endpoints: c.webhooks?.endpoints ?? [], retryForMs: c.webhooks?.retryForMs ?? DEFAULTS.retryForMs },
    channels: c.channels ?? {},
    schedules: c.schedules ?? [],
    workers: {
      sweepIntervalMs: c.workers?.sweepIntervalMs ?? DEFAULTS.sweepIntervalMs,
    },
    prices: c.prices ?? {},
  };
}

async function importConfig(file: string, cwd: string): Promise<unknown> {
  let mod: Record<string, unknown>;
  try {
    mod = await importFile(file, `config file ${relative(cwd, file)}`);
  } catch (error) {
    if (error instanceof TwelveError) throw error;
    throw new ConfigError(
      "config_invalid",
      `config file ${relative(cwd, file)} failed to load: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`,
      { path: file },
      { cause: error },
    );
  }
  let value = mod.default ?? mod.config;
  // tsx may hand a TypeScript module's namespace back as its default export (CommonJS interop): unwrap it once.
  const inner = value as Record<string, unknown> | null;
  if (
    inner &&
    typeof inner === "object" &&
    "default" in inner &&
    Object.keys(inner).every((k) => ["default", "__esModule", "config"].includes(k))
  ) {
    value = inner.default;
  }
  return value;
}
