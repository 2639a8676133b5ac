// packages/create-twelve: the future `npm create twelve@latest my-agent`. For now it only
// prints its help; it must run as a bin and pack as its own package.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const exec = promisify(execFile);
const dir = fileURLToPath(new URL("../../packages/create-twelve/", import.meta.url));
const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
  name: string;
  version: string;
  bin: Record<string, string>;
};
const bin = join(dir, manifest.bin["create-twelve"]!);

async function create(...args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], { cwd: tmpdir(), timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("create-twelve", () => {
  it("is its own package with the create-twelve bin", () => {
    expect(manifest.name).toBe("create-twelve");
    expect(Object.keys(manifest.bin)).toEqual(["create-twelve"]);
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("--help prints the usage on stdout and exits 0", async () => {
    for (const flag of ["--help", "-h"]) {
      const { code, stdout, stderr } = await create(flag);
      expect(code, stderr).toBe(0);
      expect(stdout).toContain("npm create twelve@latest [directory]");
      expect(stdout).toContain("npm install twelve-agents zod");
      expect(stderr).toBe("");
    }
  });

  it("--version prints the package's version", async () => {
    const { code, stdout } = await create("--version");
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(manifest.version);
  });

  it("an unknown flag is a usage error: one message on stderr, exit 2", async () => {
    const { code, stdout, stderr } = await create("--frobnicate");
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("--frobnicate");
    expect(stderr).toContain("--help");
  });

  it("a directory is refused for now (exit 1), and nothing is created", async () => {
    const { code, stderr } = await create("my-agent-that-must-not-exist");
    expect(code).toBe(1);
    expect(stderr).toContain("not available yet");
    expect(existsSync(join(tmpdir(), "my-agent-that-must-not-exist"))).toBe(false);
  });

  it("packs: `npm pack` in its folder ships the bin, the README and package.json", async () => {
    const { stdout } = await exec("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: dir,
      timeout: 60_000,
    });
    const [packed] = JSON.parse(stdout) as { name: string; files: { path: string; mode: number }[] }[];
    expect(packed!.name).toBe("create-twelve");
    expect(packed!.files.map((f) => f.path).sort()).toEqual(["README.md", "bin/create-twelve.js", "package.json"]);
    // Executable, so the bin link works on install.
    expect(packed!.files.find((f) => f.path === "bin/create-twelve.js")!.mode & 0o111).not.toBe(0);
  });
});
