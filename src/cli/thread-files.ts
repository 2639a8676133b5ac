import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { TwelveError } from "../errors/index.js";
import { parseThread, type Thread } from "../thread/thread.js";
import { parseJsonText } from "./json.js";

/**
 * Threads saved as plain JSON files under `.twelve/threads/` by versions
 * before the store; read once to move them into the store on resume.
 */
export function threadFiles(root: string) {
  const dir = join(root, ".twelve", "threads");
  const pathOf = (id: string) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new TwelveError("invalid_thread", `invalid thread id "${id}"`);
    return join(dir, `${id}.json`);
  };
  return {
    dir,
    pathOf,
    async load(id: string): Promise<Thread> {
      const path = pathOf(id);
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch {
        throw new TwelveError("thread_not_found", `no thread "${id}" (looked for ${path})`);
      }
      const value = parseJsonText(text, `thread file ${path}`);
      try {
        return parseThread(value);
      } catch (error) {
        throw new TwelveError("invalid_thread", `thread file ${path}: ${(error as Error).message}`);
      }
    },
  };
}
