import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { TwelveError } from "../errors/index.js";
import { ModelError } from "./errors.js";
import { playBack } from "./stream.js";
import type { GenerateRequest, GenerateResult, Message, Model, OutputSpec } from "./types.js";

/**
 * Record / replay. A cassette is a JSON file of request → response pairs.
 * Requests are keyed by a SHA-256 over the exact messages and output
 * options (keys sorted, so property order does not matter; nothing else
 * is normalised: one changed character is a different request).
 */
export interface CassetteRequest {
  messages: Message[];
  output?: OutputSpec;
  temperature?: number;
  maxTokens?: number;
}

export interface CassetteEntry {
  key: string;
  request: CassetteRequest;
  response: GenerateResult;
}

export interface Cassette {
  version: 1;
  /** The model that was recorded. */
  model: string;
  entries: CassetteEntry[];
}

export function cassetteRequest(request: GenerateRequest): CassetteRequest {
  const out: CassetteRequest = { messages: request.messages };
  if (request.output) out.output = request.output;
  if (request.temperature !== undefined) out.temperature = request.temperature;
  if (request.maxTokens !== undefined) out.maxTokens = request.maxTokens;
  return JSON.parse(JSON.stringify(out));
}

export function requestKey(request: GenerateRequest | CassetteRequest): string {
  return createHash("sha256")
    .update(stableStringify(cassetteRequest(request)))
    .digest("hex");
}

/** JSON with object keys sorted at every level. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}

export interface RecordOptions {
  /** Keep entries already in the file (default: start a fresh cassette). */
  append?: boolean;
  /** Store the provider's raw response too (large; default false). */
  keepRaw?: boolean;
}

/**
 * Wraps any model; every answered request is written to the cassette
 * right away (atomically), so an interrupted run keeps what it recorded.
 */
export function recordModel(
  model: Model,
  cassettePath: string,
  options: RecordOptions = {},
): Model & { flush(): Promise<void> } {
  let cassette: Promise<Cassette> | undefined;
  let writing: Promise<void> = Promise.resolve();
  const load = () => {
    cassette ??= (async (): Promise<Cassette> => {
      if (options.append) {
        const existing = await readCassette(cassettePath).catch((error: TwelveError) => {
          if (error.details?.reason === "missing") return undefined;
          throw error;
        });
        if (existing) return existing;
      }
      return { version: 1, model: model.id, entries: [] };
    })();
    return cassette;
  };
  return {
    id: model.id,
    async generate(request) {
      const loaded = await load();
      const result = await model.generate(request);
      const { raw, ...rest } = result;
      const response: GenerateResult = options.keepRaw && raw !== undefined ? { ...rest, raw } : rest;
      loaded.entries.push({
        key: requestKey(request),
        request: cassetteRequest(request),
        response: JSON.parse(JSON.stringify(response)),
      });
      writing = writing.then(() => writeCassette(cassettePath, loaded));
      await writing;
      return result;
    },
    flush: () => writing,
  };
}

export async function readCassette(cassettePath: string): Promise<Cassette> {
  let text: string;
  try {
    text = await readFile(cassettePath, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new TwelveError(
      "cassette_invalid",
      missing
        ? `cassette "${cassettePath}" does not exist; record one with recordModel(model, "${cassettePath}")`
        : `cannot read cassette "${cassettePath}": ${(error as Error).message}`,
      { reason: missing ? "missing" : "unreadable", path: cassettePath },
    );
  }
  let cassette: Cassette;
  try {
    cassette = JSON.parse(text);
  } catch (error) {
    throw new TwelveError(
      "cassette_invalid",
      `cassette "${cassettePath}" is not valid JSON: ${(error as Error).message}`,
      {
        path: cassettePath,
      },
    );
  }
  if (cassette?.version !== 1 || !Array.isArray(cassette.entries)) {
    throw new TwelveError(
      "cassette_invalid",
      `cassette "${cassettePath}" is not a version 1 cassette ({version: 1, entries: [...]})`,
      {
        path: cassettePath,
      },
    );
  }
  return cassette;
}

async function writeCassette(cassettePath: string, cassette: Cassette): Promise<void> {
  await mkdir(dirname(cassettePath), { recursive: true });
  const temp = `${cassettePath}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(cassette, null, 2)}\n`);
  await rename(temp, cassettePath);
}

/** A request the cassette does not contain. `details.hint` says what differs from the closest recording. */
export class ReplayMissError extends TwelveError {
  constructor(message: string, details: Record<string, unknown>) {
    super("replay_miss", message, details);
    this.name = "ReplayMissError";
  }
}

export interface ReplayOptions {
  /** Id reported in meta. Default `replay:<path>`. */
  id?: string;
}

/**
 * Answers from a cassette. The same request recorded several times is
 * answered in recorded order (the last answer repeats). An unknown
 * request throws ReplayMissError naming the first difference from the
 * closest recorded request.
 */
export async function replayModel(cassettePath: string, options: ReplayOptions = {}): Promise<Model> {
  const cassette = await readCassette(cassettePath);
  const byKey = new Map<string, CassetteEntry[]>();
  for (const entry of cassette.entries) {
    const list = byKey.get(entry.key) ?? [];
    list.push(entry);
    byKey.set(entry.key, list);
  }
  const served = new Map<string, number>();
  const id = options.id ?? `replay:${cassettePath}`;
  return {
    id,
    async generate(request) {
      if (request.signal?.aborted) throw new ModelError("aborted", `${id}: the call was aborted`, { model: id });
      const key = requestKey(request);
      const entries = byKey.get(key);
      if (!entries) throw missError(cassettePath, cassette, request);
      const index = served.get(key) ?? 0;
      served.set(key, index + 1);
      const response = structuredClone(entries[Math.min(index, entries.length - 1)]!.response);
      playBack(request, response);
      return { ...response, latencyMs: 0 };
    },
  };
}

function missError(path: string, cassette: Cassette, request: GenerateRequest): ReplayMissError {
  const wanted = cassetteRequest(request);
  if (cassette.entries.length === 0) {
    return new ReplayMissError(`replay: cassette "${path}" is empty; record it first with recordModel`, { path });
  }
  let best: { entry: CassetteEntry; score: number; hint: string } | undefined;
  for (const entry of cassette.entries) {
    const { score, hint } = compare(entry.request, wanted);
    if (!best || score > best.score) best = { entry, score, hint };
  }
  const hint = best!.hint;
  return new ReplayMissError(
    `replay: no recorded answer for this request in "${path}" (${cassette.entries.length} recorded); closest recording differs: ${hint}. Re-record the cassette if the prompt changed on purpose.`,
    { path, hint, closestKey: best!.entry.key, key: requestKey(request) },
  );
}

/** Similarity = number of leading equal messages (then options); hint = the first difference in words. */
function compare(recorded: CassetteRequest, wanted: CassetteRequest): { score: number; hint: string } {
  const a = recorded.messages;
  const b = wanted.messages;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const ra = a[i];
    const rb = b[i];
    if (!ra)
      return {
        score: i,
        hint: `the request has ${b.length} messages, the recording ${a.length} (extra message ${i}: ${rb!.role})`,
      };
    if (!rb) return { score: i, hint: `the request has ${b.length} messages, the recording ${a.length}` };
    if (stableStringify(ra) === stableStringify(rb)) continue;
    if (ra.role !== rb.role) return { score: i, hint: `message ${i} role is "${rb.role}", recorded "${ra.role}"` };
    if (ra.content !== rb.content)
      return {
        score: i + lineSimilarity(ra.content, rb.content),
        hint: `message ${i} (${rb.role}) ${firstLineDiff(ra.content, rb.content)}`,
      };
    return { score: i + 0.5, hint: `message ${i} (${rb.role}) differs in tool calls / name / toolCallId` };
  }
  for (const field of ["output", "temperature", "maxTokens"] as const) {
    if (stableStringify(recorded[field]) !== stableStringify(wanted[field])) {
      return { score: a.length, hint: `same messages, different ${field}` };
    }
  }
  return { score: a.length, hint: "identical content (the cassette key was computed differently; re-record)" };
}

function lineSimilarity(recorded: string, wanted: string): number {
  const ra = recorded.split("\n");
  const rb = wanted.split("\n");
  let same = 0;
  while (same < Math.min(ra.length, rb.length) && ra[same] === rb[same]) same++;
  return (same / Math.max(ra.length, rb.length, 1)) * 0.5;
}

function firstLineDiff(recorded: string, wanted: string): string {
  const ra = recorded.split("\n");
  const rb = wanted.split("\n");
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    if (ra[i] !== rb[i]) {
      return `line ${i + 1}: got ${quote(rb[i])}, recorded ${quote(ra[i])}`;
    }
  }
  return "differs only in whitespace at the end";
}

function quote(line: string | undefined): string {
  if (line === undefined) return "(no line)";
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 77)}...` : line);
}
