// cliffracer/sql: nameko-sqlalchemy's DatabaseSession and Database on PostgreSQL, through node-postgres
// (`pg`, an optional peer dependency loaded only by this entry). Users' guide: docs/providers.md.
export {
  Database,
  DatabaseProvider,
  DatabaseSession,
  DatabaseSessionProvider,
  DatabaseWrapper,
  DB_ENGINE_OPTIONS_KEY,
  DB_URIS_KEY,
  dbUriKey,
  type DatabaseOptions,
  type DeclarativeBase,
} from "./provider";
export { SqlSession, CALL_ID_SETTING, type SqlSessionOptions } from "./session";
export { DEFAULT_CONNECTION_TIMEOUT_MS, type EngineOptions } from "./options";
export { CommitFailed, DatabaseUnavailable } from "./errors";
