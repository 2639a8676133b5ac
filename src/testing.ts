// twelve-agents/testing: test your agents without an LLM: a scripted model (answers in order),
// a rules model (answers keyed by the thread, so a restarted process answers the same way),
// and deterministic ids and time for golden files.
export {
  loadRulesModel,
  type Rule,
  type RuleAnswer,
  type RuleCondition,
  type RulesFile,
  type RulesModelOptions,
  rulesModel,
} from "./model/rules.js";
export { type ScriptedAnswer, type ScriptedModel, scriptedModel } from "./model/scripted.js";
export { deterministicClock, deterministicRuntime } from "./thread/event.js";
