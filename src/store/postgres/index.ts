export { PG_MIGRATIONS, type PgMigration } from "./schema.js";
export { openPostgresStore, type PostgresStoreOptions, PostgresThreadStore } from "./store.js";
