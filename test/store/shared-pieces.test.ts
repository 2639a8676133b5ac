import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryThreadStore } from "../../src/store/memory.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { freshSchema, PG_URL, reportPgSkip } from "./pg-env.js";
import { sharedPiecesContract } from "./shared-pieces.js";

sharedPiecesContract("memory", async () => ({ store: new MemoryThreadStore(), cleanup: async () => {} }));

sharedPiecesContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "twelve-sqlite-pieces-"));
  const path = join(dir, "twelve.db");
  const store = await openSqliteStore({ path });
  return {
    store,
    reopen: () => openSqliteStore({ path }),
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

if (!reportPgSkip("store pieces: postgres")) {
  const url = PG_URL as string;
  sharedPiecesContract("postgres", async () => {
    const schema = freshSchema("pieces");
    const store = await openPostgresStore({ url, schema });
    return {
      store,
      reopen: () => openPostgresStore({ url, schema }),
      cleanup: async () => {
        await store.dropSchema();
        await store.close();
      },
    };
  });
}
