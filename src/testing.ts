// Test utilities for your own agents: no LLM needed.
export { type ScriptedAnswer, type ScriptedModel, scriptedModel } from "./model/scripted.js";
export { deterministicClock, deterministicRuntime } from "./thread/event.js";
