import { access } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { TwelveError } from "../errors/index.js";

/**
 * Imports a module by path: TypeScript through tsx (loaded lazily, so a
 * `.js` config needs no compiler), JavaScript with Node's own import.
 */
export async function importFile(file: string, what: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(file)).href;
  if (!/\.[mc]?tsx?$/.test(file)) return (await import(url)) as Record<string, unknown>;
  let tsx: typeof import("tsx/esm/api");
  try {
    tsx = await import("tsx/esm/api");
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "MODULE_NOT_FOUND") throw error;
    throw new TwelveError(
      "missing_dependency",
      `${what} is TypeScript, which needs tsx: run "npm install tsx" (or give a compiled .js file)`,
      { package: "tsx" },
    );
  }
  return (await tsx.tsImport(url, import.meta.url)) as Record<string, unknown>;
}

export async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
