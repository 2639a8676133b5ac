import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Agent } from "../agent/agent.js";
import { TwelveError } from "../errors/index.js";
import type { Model } from "../model/types.js";

function looksLikeAgent(value: unknown): value is Agent {
  const v = value as Partial<Agent> | null;
  return !!v && typeof v === "object" && typeof v.name === "string" && Array.isArray(v.intents) && !!v.outputSpec;
}

export interface AgentModule {
  agent: Agent;
  /** The module's `model` export (a Model or a model string), used when no --model / $TWELVE_MODEL is given. */
  model?: Model | string;
}

function looksLikeModel(value: unknown): value is Model | string {
  if (typeof value === "string") return value !== "";
  return !!value && typeof value === "object" && typeof (value as Partial<Model>).generate === "function";
}

/** Loads an agent module (see loadAgent) and its optional `model` export. */
export async function loadAgentModule(path: string, cwd = process.cwd()): Promise<AgentModule> {
  const mod = await importModule(path, cwd);
  const agent = pickAgent(mod, path);
  return looksLikeModel(mod.model) ? { agent, model: mod.model } : { agent };
}

/**
 * Loads an agent module: its default export, an export named `agent`, or
 * the only export that is an agent. TypeScript files load through tsx,
 * imported lazily so the CLI stays light for `.js` agents.
 */
export async function loadAgent(path: string, cwd = process.cwd()): Promise<Agent> {
  return pickAgent(await importModule(path, cwd), path);
}

async function importModule(path: string, cwd: string): Promise<Record<string, unknown>> {
  const file = resolve(cwd, path);
  try {
    await access(file);
  } catch {
    throw new TwelveError("agent_not_found", `cannot find agent module "${path}" (looked at ${file})`);
  }
  let mod: Record<string, unknown>;
  try {
    if (/\.[mc]?tsx?$/.test(file)) {
      const { tsImport } = await loadTsx(path);
      mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as Record<string, unknown>;
    } else {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    }
  } catch (error) {
    // A module that refuses to load with a typed error (e.g. missing configuration) keeps its code.
    if (error instanceof TwelveError) throw error;
    throw new TwelveError(
      "invalid_agent",
      `agent module "${path}" failed to load: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return mod;
}

/** tsx compiles TypeScript agents; without it, say how to get it (or to use a .js agent). */
async function loadTsx(path: string): Promise<typeof import("tsx/esm/api")> {
  try {
    return await import("tsx/esm/api");
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw error;
    throw new TwelveError(
      "missing_dependency",
      `agent module "${path}" is TypeScript, which needs tsx: run "npm install tsx" (or give a compiled .js agent)`,
      { package: "tsx" },
    );
  }
}

function pickAgent(mod: Record<string, unknown>, path: string): Agent {
  if (looksLikeAgent(mod.default)) return mod.default;
  if (looksLikeAgent(mod.agent)) return mod.agent;
  const agents = Object.values(mod).filter(looksLikeAgent);
  if (agents.length === 1 && agents[0]) return agents[0];
  if (agents.length > 1) {
    throw new TwelveError(
      "invalid_agent",
      `agent module "${path}" exports ${agents.length} agents; export the one to run as default`,
    );
  }
  throw new TwelveError(
    "invalid_agent",
    `agent module "${path}" exports no agent; add \`export default defineAgent({...})\``,
  );
}
