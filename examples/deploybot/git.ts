// The real `git` in the configured repository: tag listing and tag → commit.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface GitTag {
  name: string;
  /** Abbreviated commit the tag points at (peeled for annotated tags). */
  commit: string;
  /** When the tag (annotated) or its commit (lightweight) was made, ISO-8601 UTC. */
  date: string;
}

async function git(repo: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await exec("git", ["-C", repo, ...args], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`git ${args[0]} failed in ${repo}: ${(e.stderr || e.message).trim()}`);
  }
}

/** Tags newest version first (v1.10.0 before v1.9.0), as the model should read them. */
export async function listGitTags(repo: string): Promise<GitTag[]> {
  // Tab-separated: git forbids control characters in ref names.
  const format = "%(refname:short)%09%(objectname:short=7)%09%(*objectname:short=7)%09%(creatordate:iso-strict)";
  const out = await git(repo, ["for-each-ref", "refs/tags", "--sort=-version:refname", `--format=${format}`]);
  return out
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const [name = "", object = "", peeled = "", date = ""] = line.split("\t");
      // Normalize the date: git versions differ in how iso-strict writes UTC.
      return { name, commit: peeled || object, date: new Date(date).toISOString() };
    });
}

/** The full commit a tag points at, or an error naming the missing tag. */
export async function tagCommit(repo: string, tag: string): Promise<string> {
  try {
    const { stdout } = await exec("git", ["-C", repo, "rev-parse", "--verify", "--quiet", `refs/tags/${tag}^{commit}`]);
    return stdout.trim();
  } catch {
    throw new Error(`tag "${tag}" does not exist in the repository; pick one of the listed tags`);
  }
}
