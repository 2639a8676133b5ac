import { describe, it } from "vitest";

/**
 * The PostgreSQL tests run against a real server. `.ci/run` exports
 * TWELVE_TEST_DATABASE_URL; locally, set it yourself, e.g.
 * TWELVE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
 */
export const PG_URL = process.env.TWELVE_TEST_DATABASE_URL;

export const PG_SKIP_REASON =
  "PostgreSQL store tests SKIPPED: TWELVE_TEST_DATABASE_URL is not set. Set it to a reachable server " +
  "(e.g. postgres://postgres@127.0.0.1:5432/test) to run them; .ci/run sets it.";

/**
 * Registers one visible skipped test saying why, and warns on stderr, when no
 * database URL is set on a developer's machine; under CI it throws instead.
 */
export function reportPgSkip(suite: string): boolean {
  if (PG_URL) return false;
  // In CI a missing URL is a broken set-up, not a reason to skip: fail loudly.
  if (process.env.CI) throw new Error(`[${suite}] CI is set but TWELVE_TEST_DATABASE_URL is not: ${PG_SKIP_REASON}`);
  process.stderr.write(`\n[${suite}] ${PG_SKIP_REASON}\n`);
  describe(suite, () => {
    it.skip(PG_SKIP_REASON, () => {});
  });
  return true;
}

/** A schema name unique to this test file run, so parallel files and runs never collide. */
export function freshSchema(tag: string): string {
  return `twelve_test_${tag}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
}
