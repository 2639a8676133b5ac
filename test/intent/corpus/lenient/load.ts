import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { z } from "zod";
import { lenientSchemas } from "./schemas.js";

/**
 * One model answer parsed against a named zod schema (parseLenient), with the
 * value expected or the ParseError reason expected.
 */
export interface LenientCase {
  file: string;
  category: string;
  name: string;
  schemaName: string;
  schema: z.ZodType;
  input: string;
  /** The value expected (zod's output); absent when an error is expected. */
  expect?: unknown;
  hasExpect: boolean;
  /** Repair kinds that must be reported (`kind` or `kind@path`); `[]` means none at all. */
  repairs?: string[];
  error?: string;
  message_includes: string[];
}

const here = dirname(fileURLToPath(import.meta.url));

export function loadLenientCorpus(): LenientCase[] {
  const cases: LenientCase[] = [];
  for (const file of readdirSync(here)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    const doc = parse(readFileSync(join(here, file), "utf8")) as { category: string; cases: Record<string, unknown>[] };
    for (const raw of doc.cases) {
      const schemaName = String(raw.schema);
      const schema = lenientSchemas[schemaName];
      if (!schema) throw new Error(`${file}: case "${raw.name}" names unknown schema "${schemaName}"`);
      if (typeof raw.input !== "string") throw new Error(`${file}: case "${raw.name}" needs an input string`);
      const hasExpect = Object.hasOwn(raw, "expect");
      if (hasExpect === (typeof raw.error === "string")) {
        throw new Error(`${file}: case "${raw.name}" needs exactly one of expect / error`);
      }
      const entry: LenientCase = {
        file,
        category: doc.category,
        name: String(raw.name),
        schemaName,
        schema,
        input: raw.input,
        hasExpect,
        message_includes: (raw.message_includes as string[] | undefined) ?? [],
      };
      if (hasExpect) entry.expect = raw.expect;
      if (Array.isArray(raw.repairs)) entry.repairs = raw.repairs as string[];
      if (typeof raw.error === "string") entry.error = raw.error;
      cases.push(entry);
    }
  }
  return cases;
}
