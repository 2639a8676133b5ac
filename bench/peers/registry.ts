import type { Contender } from "./contender.js";

/**
 * Every contender, loaded lazily so each child process imports only the
 * framework it measures (peak RSS then belongs to that framework alone).
 */
export const CONTENDERS: Record<string, () => Promise<Contender>> = {
  handrolled: async () => (await import("./contenders/handrolled.js")).handRolled,
  twelve: async () => (await import("./contenders/twelve.js")).twelveMemory,
  "twelve-sqlite": async () => (await import("./contenders/twelve-sqlite.js")).twelveSqlite,
  "twelve-sqlite-full": async () => (await import("./contenders/twelve-sqlite.js")).twelveSqliteFull,
  "twelve-sqlite-normal": async () => (await import("./contenders/twelve-sqlite.js")).twelveSqliteNormal,
  "openai-agents": async () => (await import("./contenders/openai-agents.js")).openaiAgents,
  "ai-sdk": async () => (await import("./contenders/ai-sdk.js")).aiSdk,
  "ai-sdk6": async () => (await import("./contenders/ai-sdk6.js")).aiSdk6,
  langgraph: async () => (await import("./contenders/langgraph.js")).langgraphPlain,
  "langgraph-memory": async () => (await import("./contenders/langgraph.js")).langgraphMemory,
  "langgraph-sqlite": async () => (await import("./contenders/langgraph.js")).langgraphSqlite,
  "langgraph-sqlite-normal": async () => (await import("./contenders/langgraph.js")).langgraphSqliteNormal,
};

/** twelve's own configurations, which `npm run bench` measures without the peers installed. */
export const TWELVE_ONLY = ["handrolled", "twelve", "twelve-sqlite", "twelve-sqlite-full", "twelve-sqlite-normal"];
export const ALL = Object.keys(CONTENDERS);
