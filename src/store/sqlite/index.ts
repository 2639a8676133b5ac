export { loadSqliteDriver, type SqliteDriver } from "./driver.js";
export { SQLITE_MIGRATIONS } from "./schema.js";
export {
  DEFAULT_SQLITE_PATH,
  openSqliteStore,
  type SqliteStoreOptions,
  type SqliteSynchronous,
  SqliteThreadStore,
} from "./store.js";
