import { z } from "zod";
import type * as zc from "zod/v4/core";
import { fold } from "./normalize.js";

/**
 * Scalars read out of prose: an enum value or literal named in a sentence
 * ("The category is **Billing**, because…") and booleans written as
 * "True." or "false, because…". Matching ignores case, accents, Unicode
 * normalization, punctuation and markdown; whole words only ("high" is not
 * found in "highlight"). Two different values named: ambiguous, never guessed.
 */
export type TextReading<T> = { ok: true; value: T } | { ok: false; ambiguous: T[] } | undefined;

/** Longer texts are not searched (a value is named in a sentence or two, not an essay). */
const MAX_TEXT = 20_000;
const NOT_WORD = /[^\p{L}\p{N}]+/gu;

/** Folded words with a space at each end: `" the category is billing "`. */
export function wordsOf(text: string): string {
  return ` ${fold(text).replace(NOT_WORD, " ").trim()} `;
}

/** A member value and every name it may be written as. */
export interface Named {
  value: unknown;
  names: string[];
}

/**
 * The names of an enum's or literal's values: the value itself, plus, from
 * `.meta()`, documented aliases and descriptions. On an enum:
 * `.meta({ aliases: { billing: ["invoice"] }, descriptions: { billing: "…" } })`;
 * on a literal: `.meta({ aliases: ["invoice"] })` and `.describe("…")`.
 */
export function memberNames(schema: zc.$ZodType): Named[] {
  const values = schema._zod.values as Set<unknown> | undefined;
  if (!values) return [];
  const meta = (z.globalRegistry.get(schema as z.ZodType) ?? {}) as Record<string, unknown>;
  const single = values.size === 1;
  return [...values].map((value) => {
    const names = [String(value)];
    const key = String(value);
    const aliases = meta.aliases;
    if (Array.isArray(aliases) && single) names.push(...aliases.map(String));
    else if (aliases && typeof aliases === "object" && Array.isArray((aliases as Record<string, unknown>)[key])) {
      names.push(...((aliases as Record<string, unknown[]>)[key] as unknown[]).map(String));
    }
    const descriptions = meta.descriptions as Record<string, unknown> | undefined;
    if (descriptions && typeof descriptions[key] === "string") names.push(descriptions[key] as string);
    else if (single && typeof meta.description === "string") names.push(meta.description);
    return { value, names };
  });
}

/** The one member the text names (as a whole word or phrase); several: ambiguous. */
export function memberFromText(text: string, members: readonly Named[]): TextReading<unknown> {
  if (text.length > MAX_TEXT || members.length === 0) return undefined;
  const words = wordsOf(text);
  const found: unknown[] = [];
  for (const member of members) {
    if (found.includes(member.value)) continue;
    for (const name of member.names) {
      const phrase = wordsOf(name);
      if (phrase.length > 2 && words.includes(phrase)) {
        found.push(member.value);
        break;
      }
    }
  }
  if (found.length === 1) return { ok: true, value: found[0] };
  return found.length > 1 ? { ok: false, ambiguous: found } : undefined;
}

const TRUE_WORDS = new Set(["true", "yes"]);
const FALSE_WORDS = new Set(["false", "no"]);

/** `True.`, `**yes**`, `false, because…`: the first word decides; else the one boolean word in the text. */
export function booleanFromText(text: string): TextReading<boolean> {
  if (text.length > 2000) return undefined;
  const words = wordsOf(text).trim().split(" ");
  const first = words[0] ?? "";
  if (TRUE_WORDS.has(first)) return { ok: true, value: true };
  if (FALSE_WORDS.has(first)) return { ok: true, value: false };
  const seen = new Set<boolean>();
  for (const word of words) {
    if (TRUE_WORDS.has(word)) seen.add(true);
    else if (FALSE_WORDS.has(word)) seen.add(false);
  }
  if (seen.size === 1) return { ok: true, value: [...seen][0] as boolean };
  return seen.size > 1 ? { ok: false, ambiguous: [true, false] } : undefined;
}
