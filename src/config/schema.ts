import { z } from "zod";
import type { Agent } from "../agent/agent.js";
import type { Model } from "../model/types.js";
import type { ThreadStore } from "../store/types.js";

/**
 * The one configuration of a twelve deployment (`twelve.config.ts`):
 * agents and their models, the store, the public URL, secrets (every kind
 * an array, so a new secret can be added before the old one is dropped),
 * outbound webhooks, and typed sections later layers fill in (channels,
 * schedules, workers, prices). Every value can also come from the
 * environment (config/env.ts, docs/server.md).
 */

const isAgent = (v: unknown): v is Agent => {
  const a = v as Partial<Agent> | null;
  return !!a && typeof a === "object" && typeof a.name === "string" && Array.isArray(a.intents) && !!a.outputSpec;
};
const isModel = (v: unknown): v is Model =>
  !!v && typeof v === "object" && typeof (v as Partial<Model>).generate === "function";
const isStore = (v: unknown): v is ThreadStore =>
  !!v && typeof v === "object" && typeof (v as Partial<ThreadStore>).append === "function";

const nonEmpty = z.string().min(1, "must not be empty");
/** A model: a spec string (`rules:…`, `openai:gpt-4.1`, …) or a Model object. */
const modelSchema = z.union([
  nonEmpty,
  z.custom<Model>(isModel, { message: "expected a model spec string or a Model" }),
]);
const agentRef = z.union([
  nonEmpty,
  z.custom<Agent>(isAgent, { message: "expected an agent made with defineAgent() or a module path" }),
]);

/** One agent: the agent (or the path of its module) and, optionally, its own model. */
export const agentEntrySchema = z.union([agentRef, z.strictObject({ agent: agentRef, model: modelSchema.optional() })]);

/** A named API key. Several keys under one name are its rotation: each stays valid until removed. */
export const apiKeySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, "use 1-64 letters, digits, dots, dashes, underscores or @"),
  key: z.union([z.string().min(16, "an API key needs at least 16 characters"), z.array(z.string().min(16)).min(1)]),
  /** Read-only keys may only GET. */
  readOnly: z.boolean().optional(),
  /** Limits the key to these agents (launching, reading and answering their threads). */
  agents: z.array(nonEmpty).optional(),
});

/** A request-token key (signed links); the first one signs, every one verifies. */
export const tokenKeySchema = z.strictObject({
  kid: nonEmpty,
  secret: z.string().min(32, "a token secret needs at least 32 bytes"),
});

export const WEBHOOK_EVENTS = [
  "request.created",
  "request.answered",
  "thread.done",
  "thread.failed",
  "thread.cancelled",
] as const;

export const webhookEndpointSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }),
  /** Which events to send; default all. */
  events: z.array(z.enum(WEBHOOK_EVENTS)).optional(),
  /** Only events of these agents; default all. */
  agents: z.array(nonEmpty).optional(),
  /** Overrides `secrets.webhooks` for this endpoint (Standard Webhooks `whsec_…` secrets). */
  secrets: z.array(nonEmpty).optional(),
  disabled: z.boolean().optional(),
});

export const configSchema = z.strictObject({
  /** The agents served: a list, or a record by name. */
  agents: z.union([z.array(agentEntrySchema), z.record(z.string(), agentEntrySchema)]).optional(),
  /** The default model for agents that name none. */
  model: modelSchema.optional(),
  /** A store spec (SQLite path, `postgres://…`, `memory:`) or an opened store. */
  store: z
    .union([z.string(), z.custom<ThreadStore>(isStore, { message: "expected a store spec or a ThreadStore" })])
    .optional(),
  /** The URL clients reach this server at (behind a proxy): used in Location headers and links. */
  publicUrl: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional(),
  server: z
    .strictObject({
      port: z.number().int().min(0).max(65_535).optional(),
      host: nonEmpty.optional(),
      /** Largest request body in bytes (default 1 MiB). */
      bodyLimit: z.number().int().positive().optional(),
      /** Trust X-Forwarded-Proto/-Host for URLs when no publicUrl is set (behind your own proxy). */
      trustProxy: z.boolean().optional(),
      /** How long a shutdown waits for running threads before releasing their leases (ms, default 25 000). */
      shutdownGraceMs: z.number().int().nonnegative().optional(),
      /** Longest `?wait=` in seconds (default 60). */
      maxWaitSeconds: z.number().positive().optional(),
    })
    .optional(),
  secrets: z
    .strictObject({
      apiKeys: z.array(apiKeySchema).optional(),
      tokens: z.array(tokenKeySchema).optional(),
      cookies: z.array(z.string().min(32, "a cookie secret needs at least 32 bytes")).optional(),
      webhooks: z.array(nonEmpty).optional(),
    })
    .optional(),
  webhooks: z
    .strictObject({
      endpoints: z.array(webhookEndpointSchema).optional(),
      /** How long a delivery keeps being retried, with exponential backoff (ms, default 3 days). */
      retryForMs: z.number().int().positive().optional(),
    })
    .optional(),
  /** Reserved for the channel layer (Slack, email). */
  channels: z.record(z.string(), z.unknown()).optional(),
  /** Reserved for schedules (timers, cron triggers). */
  schedules: z.array(z.record(z.string(), z.unknown())).optional(),
  workers: z
    .strictObject({
      /** How often the worker looks for `running` threads nobody holds (ms, default 30 000). */
      sweepIntervalMs: z.number().int().positive().optional(),
    })
    .optional(),
  /** Reserved for the price table (prompt caching), per model. */
  prices: z.record(z.string(), z.record(z.string(), z.number())).optional(),
});

/** What `twelve.config.ts` exports (as written: every field optional). */
export type TwelveConfig = z.input<typeof configSchema>;
export type ApiKeyConfig = z.output<typeof apiKeySchema>;
export type WebhookEndpointConfig = z.output<typeof webhookEndpointSchema>;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
export type AgentEntry = z.output<typeof agentEntrySchema>;

/** Identity helper for typed config files: `export default defineConfig({...})`. */
export function defineConfig(config: TwelveConfig): TwelveConfig {
  return config;
}
