import { readFile } from "node:fs/promises";
import { TwelveError } from "../errors/index.js";
import type { LocalModelOptions } from "./local/index.js";
import type { ResilienceOptions } from "./resilience.js";
import { type ScriptedAnswer, scriptedModel } from "./scripted.js";
import type { Model } from "./types.js";

export const DEFAULT_OPENAI_MODEL = "gpt-4.1-mini";
export const DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-6";

export interface ResolveOptions {
  /** Environment to read keys and TWELVE_MODEL from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Retries, timeouts and rate limit for hosted models. Default: withResilience defaults. */
  resilience?: ResilienceOptions | false;
  /** Options for `local:` models (cache dir, threads, …). */
  local?: Omit<LocalModelOptions, "model">;
  /**
   * Record every call of the resolved model into this cassette (appending,
   * so a run that pauses and resumes across processes lands in one file).
   * Default: `TWELVE_RECORD` from the environment.
   */
  record?: string;
}

const SCHEMES = [
  "openai:<model>",
  "anthropic:<model>",
  "openai-compatible:<baseURL>#<model>",
  "local:<file.gguf | hf:user/repo/file.gguf>",
  "replay:<cassette.json>",
  "script:<steps.json>",
  "rules:<rules.json>",
];

/**
 * Turns one model string into a Model. Order: the explicit spec, then the
 * environment (TWELVE_MODEL, OPENAI_API_KEY [+ OPENAI_BASE_URL, OPENAI_MODEL],
 * ANTHROPIC_API_KEY [+ ANTHROPIC_MODEL]), then the embedded local default.
 * Adapters load lazily, so choosing `script:` never loads an SDK.
 *
 * Schemes: `openai:`, `anthropic:`, `openai-compatible:`, `local:`,
 * `replay:<cassette.json>` (record / replay), `script:<steps.json>` (a
 * queue of answers, restarting in every process) and `rules:<rules.json>`
 * (answers chosen from the thread by the first matching rule, so restarted
 * and parallel processes answer alike; format in docs/testing.md).
 */
export async function resolveModel(spec?: string, options: ResolveOptions = {}): Promise<Model> {
  const env = options.env ?? process.env;
  const model = await choose(spec, env, options);
  const record = options.record ?? env.TWELVE_RECORD?.trim();
  if (!record) return model;
  if (model.id.startsWith("replay:")) {
    throw new TwelveError(
      "model_config",
      `cannot record a replayed model into "${record}"; unset TWELVE_RECORD or pick a live model`,
    );
  }
  const { recordModel } = await import("./cassette.js");
  return recordModel(model, record, { append: true });
}

async function choose(spec: string | undefined, env: Record<string, string | undefined>, options: ResolveOptions) {
  const chosen = spec?.trim() || env.TWELVE_MODEL?.trim() || fromKeys(env);
  if (chosen) return fromSpec(chosen, env, options);
  const { DEFAULT_LOCAL_MODEL, localModel } = await import("./local/index.js");
  return localModel({
    ...localEnv(env),
    ...options.local,
    model: DEFAULT_LOCAL_MODEL,
    id: `local:${DEFAULT_LOCAL_MODEL}`,
  });
}

/** Local-model settings from the environment: a Hugging Face mirror (HF_ENDPOINT), the cache, the download stall limit. */
function localEnv(env: Record<string, string | undefined>) {
  const settings: { huggingFaceEndpoint?: string; cacheDir?: string; downloadStallMs?: number } = {};
  const stall = Number(env.TWELVE_DOWNLOAD_STALL_MS);
  if (Number.isFinite(stall) && stall > 0) settings.downloadStallMs = stall;
  if (env.HF_ENDPOINT?.trim()) settings.huggingFaceEndpoint = env.HF_ENDPOINT.trim();
  if (env.TWELVE_MODEL_CACHE?.trim()) settings.cacheDir = env.TWELVE_MODEL_CACHE.trim();
  return settings;
}

function fromKeys(env: Record<string, string | undefined>): string | undefined {
  if (env.OPENAI_API_KEY) return `openai:${env.OPENAI_MODEL || DEFAULT_OPENAI_MODEL}`;
  if (env.ANTHROPIC_API_KEY) return `anthropic:${env.ANTHROPIC_MODEL || DEFAULT_ANTHROPIC_MODEL}`;
  if (env.OPENAI_BASE_URL && env.OPENAI_MODEL) return `openai-compatible:${env.OPENAI_BASE_URL}#${env.OPENAI_MODEL}`;
  return undefined;
}

async function fromSpec(
  spec: string,
  env: Record<string, string | undefined>,
  options: ResolveOptions,
): Promise<Model> {
  const colon = spec.indexOf(":");
  const scheme = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? "" : spec.slice(colon + 1);
  const need = (what: string) => {
    if (!rest)
      throw new TwelveError("model_config", `model "${spec}" is missing its ${what}; write ${scheme}:<${what}>`);
  };
  switch (scheme) {
    case "script":
      need("file.json");
      return loadScript(rest);
    case "rules": {
      // Thread-keyed test model: the same thread gets the same answer in any process (docs/testing.md).
      need("file.json");
      const { loadRulesModel } = await import("./rules.js");
      return loadRulesModel(rest);
    }
    case "replay": {
      need("cassette.json");
      const { replayModel } = await import("./cassette.js");
      return replayModel(rest);
    }
    case "openai": {
      need("model");
      if (!env.OPENAI_API_KEY) {
        throw new TwelveError(
          "model_config",
          `model "${spec}" needs an API key: set OPENAI_API_KEY (or use openai-compatible:<baseURL>#<model> for a server without one)`,
        );
      }
      const { openaiModel } = await withPeer(spec, "openai", "openai@6", () => import("./openai.js"));
      return resilient(
        openaiModel({
          model: rest,
          apiKey: env.OPENAI_API_KEY,
          ...(env.OPENAI_BASE_URL && { baseURL: env.OPENAI_BASE_URL }),
        }),
        options,
      );
    }
    case "openai-compatible": {
      const hash = rest.lastIndexOf("#");
      const baseURL = hash < 0 ? "" : rest.slice(0, hash);
      const model = hash < 0 ? "" : rest.slice(hash + 1);
      if (!/^https?:\/\//.test(baseURL) || !model) {
        throw new TwelveError(
          "model_config",
          `model "${spec}" must look like openai-compatible:<http(s) base URL>#<model>, e.g. openai-compatible:http://localhost:11434/v1#qwen3:4b`,
        );
      }
      const { openaiModel } = await withPeer(spec, "openai", "openai@6", () => import("./openai.js"));
      return resilient(
        openaiModel({
          model,
          baseURL,
          apiKey: env.OPENAI_API_KEY || "not-needed",
          id: `openai-compatible:${baseURL}#${model}`,
        }),
        options,
      );
    }
    case "anthropic": {
      need("model");
      if (!env.ANTHROPIC_API_KEY) {
        throw new TwelveError("model_config", `model "${spec}" needs an API key: set ANTHROPIC_API_KEY`);
      }
      const { anthropicModel } = await withPeer(
        spec,
        "@anthropic-ai/sdk",
        "@anthropic-ai/sdk@1",
        () => import("./anthropic.js"),
      );
      return resilient(
        anthropicModel({
          model: rest,
          apiKey: env.ANTHROPIC_API_KEY,
          ...(env.ANTHROPIC_BASE_URL && { baseURL: env.ANTHROPIC_BASE_URL }),
        }),
        options,
      );
    }
    case "local": {
      need("file.gguf or hf:user/repo/file.gguf");
      const { localModel } = await import("./local/index.js");
      return localModel({ ...localEnv(env), ...options.local, model: rest, id: spec });
    }
    default:
      throw new TwelveError(
        "unknown_model_scheme",
        `unknown model scheme "${scheme}" in "${spec}"; use one of: ${SCHEMES.join(", ")}`,
      );
  }
}

/**
 * Imports an adapter whose SDK is an optional peer dependency (not installed
 * with twelve-agents): a missing SDK becomes a one-line install hint.
 */
async function withPeer<T>(spec: string, pkg: string, install: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (code !== "ERR_MODULE_NOT_FOUND" || !message?.includes(`'${pkg}'`)) throw error;
    throw new TwelveError(
      "missing_dependency",
      `model "${spec}" needs the ${pkg} package: run "npm install ${install}" (${message})`,
    );
  }
}

async function resilient(model: Model, options: ResolveOptions): Promise<Model> {
  if (options.resilience === false) return model;
  const { withResilience } = await import("./resilience.js");
  return withResilience(model, options.resilience ?? {});
}

async function loadScript(path: string): Promise<Model> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new TwelveError("model_script_invalid", `cannot read model script "${path}": ${(error as Error).message}`);
  }
  let answers: unknown;
  try {
    answers = JSON.parse(text);
  } catch (error) {
    throw new TwelveError(
      "model_script_invalid",
      `model script "${path}" is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (!Array.isArray(answers)) {
    throw new TwelveError("model_script_invalid", `model script "${path}" must be a JSON array of answers`);
  }
  return scriptedModel(answers as ScriptedAnswer[], { id: `script:${path}` });
}
