import { readFile } from "node:fs/promises";
import { TwelveError } from "../errors/index.js";
import { type ScriptedAnswer, scriptedModel } from "./scripted.js";
import type { Model } from "./types.js";

/**
 * Turns one model string into a Model. Schemes:
 * - `script:<file.json>`: a JSON array of scripted answers (see scriptedModel).
 */
export async function resolveModel(spec?: string): Promise<Model> {
  if (spec === undefined || spec === "") {
    throw new TwelveError(
      "config_error",
      "no model configured: pass --model <spec> or set TWELVE_MODEL (e.g. script:steps.json)",
    );
  }
  const colon = spec.indexOf(":");
  const scheme = colon < 0 ? spec : spec.slice(0, colon);
  const rest = colon < 0 ? "" : spec.slice(colon + 1);
  switch (scheme) {
    case "script":
      return loadScript(rest);
    default:
      throw new TwelveError("config_error", `unknown model scheme "${scheme}" in "${spec}"; known: script:<file.json>`);
  }
}

async function loadScript(path: string): Promise<Model> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new TwelveError("config_error", `cannot read model script "${path}": ${(error as Error).message}`);
  }
  let answers: unknown;
  try {
    answers = JSON.parse(text);
  } catch (error) {
    throw new TwelveError("config_error", `model script "${path}" is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(answers)) {
    throw new TwelveError("config_error", `model script "${path}" must be a JSON array of answers`);
  }
  return scriptedModel(answers as ScriptedAnswer[], { id: `script:${path}` });
}
