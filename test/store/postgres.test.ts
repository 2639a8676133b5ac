import { openPostgresStore } from "../../src/store/postgres/index.js";
import { storeContract } from "./contract.js";
import { freshSchema, PG_URL, reportPgSkip } from "./pg-env.js";

if (!reportPgSkip("ThreadStore contract: postgres")) {
  const url = PG_URL as string;
  storeContract("postgres", async () => {
    const schema = freshSchema("contract");
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
