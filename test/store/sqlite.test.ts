import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { storeContract } from "./contract.js";

storeContract("sqlite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "twelve-sqlite-contract-"));
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
