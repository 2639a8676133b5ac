import { z } from "zod";
import { DECISION_TYPES } from "../thread/request.js";
import { REQUEST_KINDS, THREAD_STATUSES } from "../thread/status.js";

/**
 * The HTTP API's bodies, as zod schemas (strict: the OpenAPI document says
 * `additionalProperties: false`, and the tests' parse refuses the same): requests are parsed with them,
 * responses are built to them, and /v1/openapi.json is generated from them
 * (openapi.ts), so the document cannot drift from what the server does.
 */

const id = z.string().min(1).max(4096);
export const STATUSES = THREAD_STATUSES;
export const KINDS = REQUEST_KINDS;
export { DECISION_TYPES };

// ── Requests ────────────────────────────────────────────────────────────────

export const launchBody = z
  .union([
    z.strictObject({ message: z.string().min(1, "message must not be empty").max(1_000_000) }),
    z.strictObject({
      event: z.strictObject({ type: z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/), data: z.unknown() }),
    }),
  ])
  .meta({ id: "LaunchBody", description: "A first user message, or a trigger event." });

const digest = z.string().min(1).max(200);
export const decisionBody = z
  .discriminatedUnion("decision", [
    z.strictObject({ decision: z.literal("approve"), digest: digest.optional(), comment: z.string().optional() }),
    z.strictObject({
      decision: z.literal("edit"),
      digest: digest.optional(),
      args: z.record(z.string(), z.unknown()),
      comment: z.string().optional(),
    }),
    z.strictObject({ decision: z.literal("reject"), feedback: z.string() }),
    z.strictObject({ decision: z.literal("respond"), text: z.union([z.string(), z.boolean()]) }),
    z.strictObject({ decision: z.literal("result"), value: z.unknown() }),
    z.strictObject({ decision: z.literal("mark_done"), result: z.unknown().optional() }),
    z.strictObject({ decision: z.literal("run_again"), digest: digest.optional() }),
    z.strictObject({ decision: z.literal("abandon"), reason: z.string() }),
  ])
  .meta({
    id: "DecisionBody",
    description: "One decision; approve, edit and run_again carry the argsDigest the human was shown.",
  });

export const messageBody = z
  .strictObject({
    message: z.string().min(1, "message must not be empty").max(1_000_000),
    /** The pending request this message rejects (an approval): recorded as that rejection. */
    rejects: id.optional(),
  })
  .meta({ id: "MessageBody" });

export const cancelBody = z
  .strictObject({ reason: z.string().min(1).max(10_000).optional() })
  .meta({ id: "CancelBody" });

export const forkBody = z
  .strictObject({ at: id.optional().describe("The event to fork at (default: the last one).") })
  .meta({ id: "ForkBody" });

const csv = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === "string" ? v.split(",").filter((s) => s !== "") : v), z.array(item));
const limit = z.coerce.number().int().min(1).max(1000).optional();

export const threadListQuery = z.strictObject({
  agent: z.string().min(1).optional(),
  status: csv(z.enum(STATUSES)).optional(),
  kind: z.enum(KINDS).optional(),
  updatedSince: z.iso.datetime({ offset: true }).optional(),
  limit,
  cursor: z.string().min(1).optional(),
});

export const requestListQuery = z.strictObject({
  agent: z.string().min(1).optional(),
  kind: z.enum(KINDS).optional(),
  limit,
  cursor: z.string().min(1).optional(),
});

export const waitQuery = z.strictObject({ wait: z.coerce.number().min(0).max(3600).optional() });

// ── Responses ───────────────────────────────────────────────────────────────

export const by = z.strictObject({ id: z.string(), via: z.string() }).meta({ id: "By" });

export const event = z
  .object({
    id: z.string(),
    type: z.string(),
    data: z.unknown(),
    at: z.string(),
    meta: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: "Event" });

export const humanRequest = z
  .object({
    id: z.string(),
    threadId: z.string(),
    kind: z.enum(KINDS),
    intent: z.string().optional(),
    args: z.record(z.string(), z.unknown()).optional(),
    argsDigest: z.string().optional(),
    question: z
      .object({
        text: z.string(),
        format: z.enum(["free_text", "yes_no", "multiple_choice"]),
        choices: z.array(z.string()).optional(),
      })
      .optional(),
    decisions: z.array(z.enum(DECISION_TYPES)).readonly(),
    stepId: z.string(),
    eventId: z.string(),
    resultType: z.string().optional(),
    createdAt: z.string(),
    expiresAt: z.string().optional(),
  })
  .meta({ id: "HumanRequest", description: "What a paused thread waits for; answer it with POST /v1/requests/{id}." });

export const threadView = z
  .object({
    id: z.string(),
    agent: z.string(),
    status: z.enum(STATUSES),
    reason: z.string().optional(),
    request: humanRequest.nullable(),
    /** The done step's arguments (e.g. `{message}`) once the thread is done. */
    output: z.unknown().optional(),
    version: z.number().int(),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
    parent: z.strictObject({ threadId: z.string(), eventId: z.string() }).optional(),
    /** This worker is running the thread now (a `running` thread nobody runs is picked up by a sweep). */
    busy: z.boolean(),
    /** The call repeated an earlier one (same idempotency key): nothing new was written. */
    duplicate: z.boolean().optional(),
    /** Cancel: a runner holds the thread; the cancel is recorded and honoured at its next step boundary. */
    cancelRequested: z.boolean().optional(),
    events: z.array(event),
  })
  .meta({ id: "Thread" });

export const threadSummaryView = z
  .object({
    id: z.string(),
    agent: z.string(),
    status: z.enum(STATUSES),
    request: humanRequest.nullable(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
    parent: z.strictObject({ threadId: z.string(), eventId: z.string() }).optional(),
  })
  .meta({ id: "ThreadSummary" });

export const threadList = z
  .object({ threads: z.array(threadSummaryView), nextCursor: z.string().optional() })
  .meta({ id: "ThreadList" });

export const requestList = z
  .object({ requests: z.array(humanRequest), nextCursor: z.string().optional() })
  .meta({ id: "RequestList" });

export const agentView = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    intents: z.array(z.strictObject({ name: z.string(), description: z.string().optional(), policy: z.string() })),
  })
  .meta({ id: "Agent" });

export const agentList = z.strictObject({ agents: z.array(agentView) }).meta({ id: "AgentList" });

export const errorBody = z
  .object({
    error: z.strictObject({
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: "Error", description: "Every error: a stable code (docs/errors.md), a message, and details." });

export type ThreadView = z.infer<typeof threadView>;
export type ThreadSummaryView = z.infer<typeof threadSummaryView>;
export type ErrorBody = z.infer<typeof errorBody>;
