// nameko-sqlalchemy's DatabaseSession and Database, on node-postgres (docs/providers.md, SQL).
import type { Pool } from "pg";
import { describeError, errorLogFields, maskUrlCredentials } from "../../compat/index";
import {
  registerDependency,
  type ContainerHandle,
  type DependencyProvider,
  type Logger,
  type WorkerContext,
  type WorkerOutcome,
} from "../../src/index";
import { configEntry, configMapping } from "../config";
import { loadPeer } from "../peer";
import { DatabaseUnavailable } from "./errors";
import { poolConfig, postgresUri, type EngineOptions } from "./options";
import { SqlSession } from "./session";

/** Nameko's config key mapping `"<service_name>:<base name>"` to a database URI. */
export const DB_URIS_KEY = "DB_URIS";
/** Nameko's config key of engine (here: pool) options, shared by every database of the service. */
export const DB_ENGINE_OPTIONS_KEY = "DB_ENGINE_OPTIONS";

/**
 * What names a database: a name (`"Base"`, keyed `"<service_name>:Base"` in DB_URIS), a full key
 * (`"orders:Base"`, used as is because it holds a colon), or a class standing for SQLAlchemy's
 * declarative base, keyed by its name as nameko-sqlalchemy does.
 */
export type DeclarativeBase = string | { readonly name: string };

/** Options of `@DatabaseSession()` and `@Database()`. */
export interface DatabaseOptions {
  /** Pool options; the config key DB_ENGINE_OPTIONS overrides them (nameko-sqlalchemy's engine_options). */
  engineOptions?: EngineOptions;
}

/** The DB_URIS key of `base` for `serviceName`. */
export function dbUriKey(serviceName: string, base: DeclarativeBase): string {
  const name = typeof base === "string" ? base : base.name;
  return name.includes(":") ? name : `${serviceName}:${name}`;
}

/**
 * The pool of one database for one container, and the sessions its workers hold: the pool is made
 * and a connection tried at setup, each worker's sessions are committed or rolled back at the
 * worker's commit point and closed at teardown, and the pool is ended at stop or kill.
 */
abstract class PoolProvider implements DependencyProvider {
  private _pool?: Pool;
  private log?: Logger;
  /** The sessions each running worker holds. */
  private readonly sessions = new Map<WorkerContext, SqlSession[]>();
  /** The session of each worker that is committed or rolled back with it. */
  private readonly committed = new Map<WorkerContext, SqlSession>();

  constructor(
    readonly attrName: string,
    private readonly base: DeclarativeBase,
    private readonly options: DatabaseOptions = {},
  ) {}

  /** The pool; available from setup until stop. */
  get pool(): Pool {
    if (!this._pool) throw new Error(`${this.attrName}: the database pool is used before setup or after stop`);
    return this._pool;
  }

  async setup(container: ContainerHandle): Promise<void> {
    const key = dbUriKey(container.serviceName, this.base);
    const uri = postgresUri(configEntry(container, DB_URIS_KEY, key), key);
    const config = poolConfig(
      uri,
      container.serviceName,
      this.options.engineOptions ?? {},
      configMapping(container, DB_ENGINE_OPTIONS_KEY),
    );
    this.log = container.log.child({ dependency: this.attrName, database: key });
    const pg = await loadPeer("cliffracer/sql", "pg", () => import("pg"));
    const pool = new pg.Pool(config);
    // An idle pooled connection that dies (a server restart) is reported here; unheard, it would crash the process.
    pool.on("error", (err) => this.log?.warn("idle database connection failed", errorLogFields(err)));
    try {
      (await pool.connect()).release();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new DatabaseUnavailable(
        `Cannot connect to database ${key} at ${maskUrlCredentials(uri)}: ${describeError(err)}`,
      );
    }
    this._pool = pool;
  }

  /** A session for `worker`, closed with the worker; the first one asked with `committed` is the one its outcome decides. */
  protected session(worker: WorkerContext, committed: boolean): SqlSession {
    const session = new SqlSession(this.pool, { callId: worker.callId, log: worker.log });
    const held = this.sessions.get(worker);
    if (held) held.push(session);
    else this.sessions.set(worker, [session]);
    if (committed && !this.committed.has(worker)) this.committed.set(worker, session);
    return session;
  }

  /** Commit the worker's session when the worker succeeded, roll it back when it failed: before any reply. */
  async workerCommit(worker: WorkerContext, outcome: WorkerOutcome): Promise<void> {
    const session = this.committed.get(worker);
    if (!session) return;
    if (outcome.ok) await session.commit();
    else await session.rollback();
  }

  /** Give every session's connection back; what is still open is rolled back. */
  async workerTeardown(worker: WorkerContext): Promise<void> {
    const held = this.sessions.get(worker);
    this.sessions.delete(worker);
    this.committed.delete(worker);
    if (held) await Promise.all(held.map((s) => s.close()));
  }

  /**
   * The container stops dependencies once its workers finished, or once SHUTDOWN_TIMEOUT passed:
   * the connections of workers still running then are destroyed, since ending the pool waits for
   * every connection to come back.
   */
  stop(): Promise<void> {
    if (this.sessions.size > 0)
      this.log?.warn("stopping while workers still run; their database connections are closed", {
        workers: this.sessions.size,
      });
    return this.kill();
  }

  /**
   * Connections of abandoned workers are destroyed, so ending the pool does not wait for them; the
   * sessions stay known until the workers' teardown, so a worker that still finishes is failed
   * (CommitFailed) rather than told it committed.
   */
  kill(): Promise<void> {
    for (const held of this.sessions.values()) for (const s of held) s.destroy();
    return this.end();
  }

  private async end(): Promise<void> {
    const pool = this._pool;
    this._pool = undefined;
    await pool?.end();
  }

  abstract getDependency(worker: WorkerContext): unknown;
}

/** Provides each worker its own SqlSession (nameko-sqlalchemy's DatabaseSession). */
export class DatabaseSessionProvider extends PoolProvider {
  getDependency(worker: WorkerContext): SqlSession {
    return this.session(worker, true);
  }
}

/**
 * What `@Database()` injects (nameko-sqlalchemy's DatabaseWrapper): the worker's session, and
 * sessions of its own for work that must commit apart from the worker.
 */
export class DatabaseWrapper {
  private worker?: SqlSession;

  constructor(private readonly open: (committed: boolean) => SqlSession) {}

  /** The worker's session, made on first use: committed when the worker succeeds, rolled back when it fails. */
  get session(): SqlSession {
    return (this.worker ??= this.open(true));
  }

  /** A session of its own: commit it yourself; what is uncommitted is rolled back when the worker finishes. */
  getSession(): SqlSession {
    return this.open(false);
  }

  /** Run `work` in a session of its own, committed when `work` resolves, rolled back when it throws, then closed. */
  async transaction<T>(work: (session: SqlSession) => Promise<T>): Promise<T> {
    const session = this.getSession();
    try {
      const result = await work(session);
      await session.commit();
      return result;
    } catch (err) {
      await session.rollback().catch(() => undefined);
      throw err;
    } finally {
      await session.close();
    }
  }
}

/** Provides each worker a DatabaseWrapper (nameko-sqlalchemy's Database). */
export class DatabaseProvider extends PoolProvider {
  getDependency(worker: WorkerContext): DatabaseWrapper {
    return new DatabaseWrapper((committed) => this.session(worker, committed));
  }
}

/**
 * Inject a SqlSession per worker: `@DatabaseSession("Base") db!: SqlSession`, with the URI in
 * `DB_URIS["<service_name>:Base"]`. Committed when the worker succeeds and rolled back when it
 * fails, before the reply is sent; a failed commit is the caller's error (CommitFailed).
 */
export function DatabaseSession(base: DeclarativeBase, options: DatabaseOptions = {}): PropertyDecorator {
  return (target, propertyKey) => {
    const attrName = String(propertyKey);
    registerDependency(target, () => new DatabaseSessionProvider(attrName, base, options));
  };
}

/**
 * Inject a DatabaseWrapper per worker: `@Database("Base") db!: DatabaseWrapper`, then
 * `this.db.session.query(...)`, `this.db.transaction(async (s) => ...)`.
 */
export function Database(base: DeclarativeBase, options: DatabaseOptions = {}): PropertyDecorator {
  return (target, propertyKey) => {
    const attrName = String(propertyKey);
    registerDependency(target, () => new DatabaseProvider(attrName, base, options));
  };
}
