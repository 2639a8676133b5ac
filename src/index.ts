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
export { approve, externalResult, humanResponse, reject, startThread, userMessage } from "./agent/events.js";
export { defaultPrompt, outputFormatText } from "./agent/prompt.js";
export { acceptEvent, resume } from "./agent/resume.js";
export { type RunOptions, run } from "./agent/run.js";
export { type CommitHook, type StepOptions, step } from "./agent/step.js";
export * from "./context/index.js";
export * from "./errors/index.js";
export {
  type AnyIntent,
  builtinIntents,
  defineIntent,
  doneForNow,
  type Handler,
  type HandlerContext,
  type Intent,
  type Policy,
  requestHumanInput,
  stepSchema,
} from "./intent/intent.js";
export { type ParsedStep, ParseError, parseStep, parseToolCalls, type Repair } from "./intent/parse/index.js";
export { renderIntentSchemas, stepJsonSchema, toolSpecs } from "./intent/schema-text.js";
// Models: the interface, scripted/replay test doubles, resilience and one-string resolution.
// Provider SDKs and node-llama-cpp load only when a model of theirs is resolved.
export * from "./model/index.js";
// Durable threads: the store interface, the memory store and openStore; drivers load on open.
export * from "./store/index.js";
export {
  deterministicRuntime,
  type Event,
  type EventMeta,
  makeEvent,
  type PolicyName,
  type Runtime,
} from "./thread/event.js";
export { toMarkdown } from "./thread/markdown.js";
export {
  consecutiveErrors,
  type PendingRequest,
  pendingRequest,
  stepCount,
  type ThreadState,
  type ThreadStatus,
  threadState,
  threadStatus,
} from "./thread/status.js";
export { appendEvents, createThread, fork, parseThread, THREAD_SCHEMA_VERSION, type Thread } from "./thread/thread.js";
