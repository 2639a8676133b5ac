// Test utilities for your own agents: no LLM needed.
export { loadRulesModel, type Rule, type RuleAnswer, type RuleCondition, rulesModel } from "./model/rules.js";
export { type ScriptedAnswer, type ScriptedModel, scriptedModel } from "./model/scripted.js";
export { deterministicClock, deterministicRuntime } from "./thread/event.js";
