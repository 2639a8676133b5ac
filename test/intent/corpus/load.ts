import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { AnyIntent } from "../../../src/intent/intent.js";
import { schemas } from "./schemas.js";

/**
 * One malformed (or clean) model answer with what the parser must make of
 * it. Exactly one of `input` (a text answer) and `tool_calls` (tools mode).
 */
export interface CorpusCase {
  file: string;
  category: string;
  name: string;
  schema: string;
  intents: AnyIntent[];
  input?: string;
  tool_calls?: { id: string; name: string; arguments: unknown }[];
  /** The step expected; absent when an error is expected. */
  expect?: Record<string, unknown>;
  /** Repair kinds expected, as a set (`kind` or `kind@path`); absent means none. */
  repairs: string[];
  /** The ParseError reason expected. */
  error?: string;
  /** Text the error message must contain (it is what the model reads). */
  message_includes: string[];
}

const here = dirname(fileURLToPath(import.meta.url));

interface CorpusFile {
  category: string;
  schema: string;
  cases: Record<string, unknown>[];
}

export function loadCorpus(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const file of readdirSync(here)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    const doc = parse(readFileSync(join(here, file), "utf8")) as CorpusFile;
    for (const raw of doc.cases) {
      const schema = (raw.schema as string | undefined) ?? doc.schema;
      const intents = schemas[schema];
      if (!intents) throw new Error(`${file}: case "${raw.name}" names unknown schema "${schema}"`);
      const entry: CorpusCase = {
        file,
        category: doc.category,
        name: String(raw.name),
        schema,
        intents,
        repairs: (raw.repairs as string[] | undefined) ?? [],
        message_includes: (raw.message_includes as string[] | undefined) ?? [],
      };
      if (typeof raw.input === "string") entry.input = raw.input;
      if (Array.isArray(raw.tool_calls)) {
        entry.tool_calls = (raw.tool_calls as Record<string, unknown>[]).map((c, i) => ({
          id: `call_${i + 1}`,
          name: String(c.name),
          arguments: c.arguments,
        }));
      }
      if (raw.expect !== undefined) entry.expect = raw.expect as Record<string, unknown>;
      if (typeof raw.error === "string") entry.error = raw.error;
      if ((entry.input === undefined) === (entry.tool_calls === undefined)) {
        throw new Error(`${file}: case "${entry.name}" needs exactly one of input / tool_calls`);
      }
      if ((entry.expect === undefined) === (entry.error === undefined)) {
        throw new Error(`${file}: case "${entry.name}" needs exactly one of expect / error`);
      }
      cases.push(entry);
    }
  }
  return cases;
}
