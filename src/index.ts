// twelve-agents: what an agent author writes with: agents, intents, prompts, context, the
// loop, threads, events and errors. Subpaths add what they name, without repeating this:
// `/model` (resolveModel, resilience, record/replay), `/store` (openStore, the stores),
// `/runtime` (createRuntime: the one way in for every entry point), `/testing` (scripted and
// rules models, deterministic clocks). No heavy or native dependency is imported from here.
export {
  type Agent,
  type AgentConfig,
  defineAgent,
  type ErrorPolicy,
  findIntent,
  type Hooks,
  type NewEvent,
  type PromptFn,
  type PromptInput,
  renderPrompt,
} from "./agent/agent.js";
export { type AcceptAnswerOptions, acceptAnswer, isAnswer } from "./agent/answer.js";
export {
  type AnswerOptions,
  abandon,
  approve,
  edit,
  externalResult,
  humanResponse,
  markDone,
  type RequestRef,
  reject,
  respond,
  result,
  runAgain,
  startThread,
  userMessage,
} from "./agent/events.js";
export { defaultPrompt, outputFormatText } from "./agent/prompt.js";
export { acceptEvent, resume } from "./agent/resume.js";
export { type RunOptions, run } from "./agent/run.js";
export { type CommitHook, type StepOptions, step } from "./agent/step.js";
export {
  ConfigError,
  defineConfig,
  ENV_VARS,
  type LoadConfigOptions,
  loadConfig,
  type ResolvedConfig,
  type TwelveConfig,
} from "./config/index.js";
export * from "./context/index.js";
export * from "./errors/index.js";
export {
  type AnyIntent,
  builtinIntents,
  type ContactOptions,
  defineIntent,
  doneForNow,
  type Handler,
  type HandlerContext,
  type HumanOptions,
  type Intent,
  type Policy,
  type Responders,
  requestHumanInput,
  stepSchema,
  type TimerOptions,
} from "./intent/intent.js";
export {
  type LenientOptions,
  type LenientResult,
  type ParsedStep,
  ParseError,
  parseLenient,
  parseStep,
  parseToolCalls,
  type Repair,
} from "./intent/parse/index.js";
export {
  type DeepPartial,
  type PartialResult,
  type PartialStep,
  parsePartial,
  parsePartialStep,
} from "./intent/parse/partial.js";
export { renderIntentSchemas, stepJsonSchema, toolSpecs } from "./intent/schema-text.js";
export {
  approvalEvent,
  BUILTIN_EVENTS,
  type BuiltinEvent,
  type BuiltinEventData,
  type BuiltinEventType,
  defineEvent,
  type EventType,
  errorEvent,
  escalationEvent,
  failedEvent,
  humanResponseEvent,
  intentOfResult,
  intentOfStarted,
  resultType,
  startedType,
  stepArguments,
  userMessageEvent,
} from "./thread/builtin.js";
export {
  type By,
  type Clock,
  defaultClock,
  type Event,
  type EventKind,
  type EventMeta,
  eventMetaSchema,
  eventMetaShape,
  META_KEYS,
  makeEvent,
  type PolicyName,
  type Runtime,
  readBy,
  VIAS,
  type Via,
} from "./thread/event.js";
export { canonicalJson, digestOf, toJsonSafe } from "./thread/json-safe.js";
export { toMarkdown } from "./thread/markdown.js";
export {
  type Answer,
  type AnsweredBy,
  DECISIONS,
  type Decision,
  type DecisionType,
  findAnswer,
  type HumanRequest,
  humanRequest,
  parseRequestId,
  requestFromPending,
  requestId,
} from "./thread/request.js";
export {
  consecutiveErrors,
  type PendingRequest,
  pendingRequest,
  type RequestKind,
  stepCount,
  type ThreadState,
  type ThreadStatus,
  threadState,
  threadStatus,
} from "./thread/status.js";
export { appendEvents, createThread, fork, parseThread, THREAD_SCHEMA_VERSION, type Thread } from "./thread/thread.js";
