import { z } from "zod";
import { type AnyIntent, builtinIntents, defineIntent } from "../../../src/intent/intent.js";

/** The intent sets the corpus cases are written against, by name. */
const pair = z.object({ a: z.number(), b: z.number() });

const calculator: AnyIntent[] = [
  defineIntent("add", pair, { description: "Add two numbers", handler: ({ a, b }) => a + b }),
  defineIntent("subtract", pair, { description: "Subtract b from a", handler: ({ a, b }) => a - b }),
  defineIntent("multiply", pair, { description: "Multiply two numbers", handler: ({ a, b }) => a * b }),
  defineIntent("divide", pair, { description: "Divide a by b", handler: ({ a, b }) => a / b }),
  ...builtinIntents,
];

const environment = z.enum(["staging", "production"]);

const deploy: AnyIntent[] = [
  defineIntent(
    "deploy_backend",
    z.object({
      tag: z.string().describe("git tag to deploy"),
      environment,
      dry_run: z.boolean().default(false),
      replicas: z.number().int().min(1).max(20).optional(),
      notes: z.string().nullable().optional(),
    }),
    { description: "Deploy a tag of the backend", policy: "approve" },
  ),
  defineIntent(
    "list_git_tags",
    z.object({ limit: z.number().int().positive().optional(), prefix: z.string().optional() }),
    { description: "List recent git tags", handler: () => [] },
  ),
  defineIntent("rollback", z.object({ environment, to_tag: z.string() }), {
    description: "Roll an environment back to a tag",
    policy: "approve",
  }),
  ...builtinIntents,
];

const filter = z.discriminatedUnion("field", [
  z.object({ field: z.literal("status"), value: z.enum(["open", "closed", "in_progress"]) }),
  z.object({ field: z.literal("created"), after: z.string().optional(), before: z.string().optional() }),
  z.object({ field: z.literal("assignee"), name: z.string() }),
]);

const rich: AnyIntent[] = [
  defineIntent(
    "create_ticket",
    z.object({
      title: z.string(),
      priority: z.enum(["low", "medium", "high", "urgent"]),
      labels: z.array(z.string()),
      assignee: z.object({ name: z.string(), email: z.string().optional() }).optional(),
      estimate_hours: z.number().optional(),
      blocked: z.boolean().optional(),
      links: z.record(z.string(), z.string()).optional(),
    }),
    { description: "Create a ticket" },
  ),
  defineIntent(
    "search_tickets",
    z.object({ query: z.string(), filters: z.array(filter).optional(), limit: z.number().int().default(10) }),
    { description: "Search tickets", handler: () => [] },
  ),
  defineIntent("set_value", z.object({ key: z.string(), value: z.union([z.number(), z.boolean(), z.string()]) }), {
    description: "Set a configuration value",
    handler: () => null,
  }),
  defineIntent(
    "update_scores",
    z.object({
      scores: z.partialRecord(z.enum(["speed", "quality", "cost"]), z.number()).describe("partial update"),
      point: z.tuple([z.number(), z.number()]).optional(),
      counts: z.record(z.string(), z.number().int()).optional(),
    }),
    { description: "Update review scores", handler: () => null },
  ),
  defineIntent(
    "notify",
    z.object({
      channel: z.union([
        z.object({ kind: z.literal("email"), to: z.string() }),
        z.object({ kind: z.literal("slack"), channel: z.string(), thread: z.string().optional() }),
      ]),
      message: z.string(),
      mode: z.literal("now").or(z.literal("later")).optional(),
    }),
    { description: "Send a notification", handler: () => null },
  ),
  ...builtinIntents,
];

const single: AnyIntent[] = [
  defineIntent(
    "extract_contact",
    z.object({
      name: z.string(),
      phone: z.string(),
      age: z.number().int().optional(),
      vip: z.boolean().default(false),
    }),
    { description: "The contact details found in the text" },
  ),
];

export const schemas: Record<string, AnyIntent[]> = { calculator, deploy, rich, single };
