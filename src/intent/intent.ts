import { z } from "zod";
import type { By, PolicyName } from "../thread/event.js";
import type { HumanRequest } from "../thread/request.js";
import type { Thread } from "../thread/thread.js";

/** Everything a handler may use besides its arguments. */
export interface HandlerContext {
  thread: Thread;
  /** Id of the step event being executed. */
  stepId: string;
  signal?: AbortSignal;
}

export type Handler<Args> = (args: Args, context: HandlerContext) => unknown | Promise<unknown>;

/** A policy, or a function choosing one per step (e.g. approve only for production). */
export type Policy<Args = Record<string, unknown>> = PolicyName | ((args: Args, thread: Thread) => PolicyName);

export type ArgsShape = z.ZodRawShape;

/**
 * Who may answer a request about this intent: ids matched against the
 * answer's `by.id` (`"*"`: anyone identified), or a function deciding per
 * answer. Checked by `runtime/` for every entry point; a refusal runs nothing.
 */
export type Responders = readonly string[] | ((by: By, request: HumanRequest) => boolean | Promise<boolean>);

/** How a human is contacted about a request (channels); filled in by the channel and trigger layers. */
export type ContactOptions = Record<string, unknown>;

/** Reminders, escalation and expiry of a request; filled in by the timers layer. */
export type TimerOptions = Record<string, unknown>;

/** Human-facing options shared by intents and the built-in `request_human_input` (see AgentConfig.humanInput). */
export interface HumanOptions {
  responders?: Responders;
  contact?: ContactOptions;
  timers?: TimerOptions;
}

export interface Intent<Name extends string = string, Shape extends ArgsShape = ArgsShape> {
  name: Name;
  /** Arguments only; the `intent` discriminator is added by twelve. */
  schema: z.ZodObject<Shape>;
  description: string;
  policy: Policy<z.infer<z.ZodObject<Shape>>>;
  handler?: Handler<z.infer<z.ZodObject<Shape>>>;
  /** Safe to run again if a crash leaves it unclear whether it ran. Default false. */
  idempotent: boolean;
  /** Who may answer this intent's requests; default: the agent's `responders`. */
  responders?: Responders;
  contact?: ContactOptions;
  timers?: TimerOptions;
}

// biome-ignore lint/suspicious/noExplicitAny: an intent list is heterogeneous by nature.
export type AnyIntent = Intent<string, any>;

/** The one options shape of an intent. */
export interface IntentOptions<Args> extends HumanOptions {
  description: string;
  /** Default: `run` when a handler is given, otherwise `done`. */
  policy?: Policy<Args>;
  handler?: Handler<Args>;
  idempotent?: boolean;
}

const NAME = /^[a-z][a-z0-9_]*$/;

export function defineIntent<const Name extends string, Shape extends ArgsShape>(
  name: Name,
  schema: z.ZodObject<Shape>,
  options: IntentOptions<z.infer<z.ZodObject<Shape>>>,
): Intent<Name, Shape> {
  if (!NAME.test(name)) {
    throw new TypeError(`intent name "${name}" must be snake_case (a-z, 0-9, _) and start with a letter`);
  }
  if ("intent" in schema.shape) {
    throw new TypeError(`intent "${name}": the schema must not declare an "intent" field; twelve adds it`);
  }
  const intent: Intent<Name, Shape> = {
    name,
    schema,
    description: options.description,
    policy: options.policy ?? (options.handler ? "run" : "done"),
    idempotent: options.idempotent ?? false,
  };
  if (options.handler) intent.handler = options.handler;
  if (options.responders) intent.responders = options.responders;
  if (options.contact) intent.contact = options.contact;
  if (options.timers) intent.timers = options.timers;
  return intent;
}

/** The essay's built-in for contacting a human (factor 7). */
export const requestHumanInput = defineIntent(
  "request_human_input",
  z.object({
    question: z.string().describe("what you need from the human"),
    context: z.string().optional().describe("why you are asking; what you know so far"),
    options: z
      .object({
        urgency: z.enum(["low", "medium", "high"]).optional(),
        format: z.enum(["free_text", "yes_no", "multiple_choice"]).optional(),
        choices: z.array(z.string()).optional(),
      })
      .optional(),
  }),
  { description: "Ask a human a question and wait for the answer", policy: "human" },
);

/** The essay's built-in for finishing: a final message for the human. */
export const doneForNow = defineIntent(
  "done_for_now",
  z.object({ message: z.string().describe("final answer or status for the human") }),
  { description: "Finish: the task is complete or you are handing back to the human", policy: "done" },
);

export const builtinIntents: readonly AnyIntent[] = [requestHumanInput, doneForNow];

/** The discriminated union of steps an agent may choose, for validation and JSON schema output. */
export function stepSchema(intents: readonly AnyIntent[]) {
  const members = intents.map((i) => i.schema.extend({ intent: z.literal(i.name) }));
  if (members.length === 1) return members[0] as z.ZodObject;
  return z.discriminatedUnion("intent", members as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]]);
}

export function resolvePolicy(intent: AnyIntent, args: Record<string, unknown>, thread: Thread): PolicyName {
  return typeof intent.policy === "function" ? intent.policy(args, thread) : intent.policy;
}
