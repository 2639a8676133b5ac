// twelve: the core. No heavy or native dependency is imported from here.
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
export { type ParsedStep, ParseError, parseStep, parseToolCalls, type Repair } from "./intent/parse/index.js";
export { renderIntentSchemas, stepJsonSchema, toolSpecs } from "./intent/schema-text.js";
// Models: the interface, scripted/replay test doubles, resilience and one-string resolution.
// Provider SDKs and node-llama-cpp load only when a model of theirs is resolved.
export * from "./model/index.js";
// The one way in for every entry point: start, answer, continue under a lease with the request check.
export * from "./runtime/index.js";
// Durable threads: the store interface, the memory store and openStore; drivers load on open.
export * from "./store/index.js";
export {
  type By,
  type Clock,
  defaultClock,
  deterministicClock,
  deterministicRuntime,
  type Event,
  type EventMeta,
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
