import { z } from "zod";

/**
 * Every `meta` key twelve reads or writes, declared once: the schema checks
 * a thread from outside (a file, an HTTP body), and `EventMeta` is its type.
 * Meta is what must be kept but never shown to the model. Unknown keys
 * survive a round trip (the schema is loose), so a newer thread still loads;
 * to type keys of your own, augment `EventMeta` (see docs/factors.md, factor 5).
 */

/** Where an action came from: the entry point a person (or the system) used. */
export const VIAS = ["cli", "api", "inbox", "link", "slack", "email", "webhook", "timer", "system"] as const;
export type Via = (typeof VIAS)[number];

/** Who answered or acted, kept in event meta as `by`. */
export const bySchema = z.object({ id: z.string(), via: z.enum(VIAS) });
export type By = z.output<typeof bySchema>;

export const EVENT_KINDS = ["step", "started", "result"] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const POLICY_NAMES = ["run", "approve", "human", "async", "done"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

const usageSchema = z.object({ inputTokens: z.number(), outputTokens: z.number() });

export const eventMetaShape = {
  /** `step`: the model's chosen next step; `started`: the marker written just before a handler runs; `result`: what it returned. */
  kind: z.enum(EVENT_KINDS).optional(),
  /** On step events: the policy in force when the step was chosen. */
  policy: z.enum(POLICY_NAMES).optional(),
  /** On step, started and result events: the intent name. */
  intent: z.string().optional(),
  /** On started events: whether re-running after a crash is safe. */
  idempotent: z.boolean().optional(),
  /** On result, started and answer events: the step event this answers. */
  stepId: z.string().optional(),
  /** On a `cancelled` event: the `cancel_requested` annotation it carries out. */
  requestedBy: z.string().optional(),
  /** On a `run_again` approval: the `_started` marker of the run that may or may not have happened. */
  startedId: z.string().optional(),
  /** On events added by a prefetch hook. */
  prefetch: z.boolean().optional(),
  /** A caller's key: a second delivery with the same key appends nothing. */
  idempotencyKey: z.string().optional(),
  /** Who answered or acted (legacy files hold a plain string; read it with `readBy`). */
  by: z.union([bySchema, z.string()]).optional(),
  /** On answer events: the human request this event answers (see thread/request.ts). */
  requestId: z.string().optional(),
  /** On answer events: the decision taken. */
  decision: z.string().optional(),
  /** On answer events: the digest of the arguments the human was shown. */
  digest: z.string().optional(),
  /**
   * An annotation (a delivery, a refused answer, a reminder, a note):
   * recorded on the thread but never changing its status, next action or
   * default context, and never making a running loop's commit fail.
   */
  annotation: z.boolean().optional(),
  /** Hidden from the model's context, kept on the thread. */
  hidden: z.boolean().optional(),
  /** Where a trigger came from (a channel reference such as `slack:C123/1700000000.1`, or `{ref}` / `{kind, id}`). */
  channel: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  /** The inbound record a trigger was made from (source and delivery id). */
  origin: z.looseObject({ source: z.string(), deliveryId: z.string() }).optional(),
  /** On annotations recording a delivery: how many times it was delivered. */
  deliveries: z.number().int().nonnegative().optional(),
  /** On requests with a deadline: when the request expires (ISO-8601). */
  expiresAt: z.string().optional(),
  /** On error events: where the error happened. */
  phase: z.enum(["model", "hook", "handler"]).optional(),
  /** On model-made events: the model id, answer form, tokens and latency. */
  model: z.string().optional(),
  mode: z.string().optional(),
  answer: z.enum(["text", "tool_calls"]).optional(),
  usage: usageSchema.optional(),
  latencyMs: z.number().optional(),
  /** On parse errors: the model's raw answer, the schema issues and what the parser tried. */
  raw: z.unknown().optional(),
  issues: z.array(z.unknown()).optional(),
  /** On steps the parser had to repair: what it repaired. */
  repairs: z.array(z.unknown()).optional(),
  tried: z.array(z.unknown()).optional(),
  /** On handler errors: the stack (capped). */
  stack: z.string().optional(),
  /** On capped errors: the full message's length and a longer copy. */
  messageChars: z.number().optional(),
  message: z.string().optional(),
};

export const eventMetaSchema = z.looseObject(eventMetaShape);

/** The meta keys, as a list: what docs and tests check against. */
export const META_KEYS = Object.keys(eventMetaShape) as (keyof typeof eventMetaShape)[];

type DeclaredMeta = z.output<z.ZodObject<typeof eventMetaShape>>;

/**
 * An event's meta. Declared keys are typed; to type keys of your own, augment it:
 * `declare module "twelve-agents" { interface EventMeta { ticket?: string } }`.
 */
export interface EventMeta extends DeclaredMeta {}
