// One unit of work on a pooled PostgreSQL connection (SQLAlchemy's Session, without the ORM):
// docs/providers.md, SQL sessions.
import type { DatabaseError, Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from "pg";
import { describeError, type Logger } from "../../compat/index";
import { CommitFailed } from "./errors";

/** The setting each transaction carries the worker's call id in: `current_setting('cliffracer.call_id')`. */
export const CALL_ID_SETTING = "cliffracer.call_id";

/** What a session knows of the worker it serves. */
export interface SqlSessionOptions {
  /** The worker's call id, set as `cliffracer.call_id` in every transaction the session opens. */
  callId?: string;
  /** Where begin, commit and rollback are logged (at debug); the worker's logger carries the call id. */
  log?: Logger;
}

/**
 * A session: the first query takes a connection from the pool and opens a transaction; `commit()` or
 * `rollback()` ends it, and the next query opens another on the same connection; `close()` rolls
 * back what is open and gives the connection back. Queries are node-postgres's (`$1` parameters).
 */
export class SqlSession {
  private client?: PoolClient;
  /** The transaction being opened or open: the connection taken and BEGIN done. */
  private opening?: Promise<PoolClient>;
  /** Set when the connection cannot be trusted any more; it is destroyed instead of pooled. */
  private broken?: Error;
  private closed = false;
  /** The connection was taken away (destroy()); an open transaction is lost. */
  private destroyed = false;

  constructor(
    private readonly pool: Pool,
    private readonly options: SqlSessionOptions = {},
  ) {}

  /** True from the first query after a commit, rollback or the start until the next commit or rollback. */
  get inTransaction(): boolean {
    return this.opening !== undefined;
  }

  /** Run a query in the session's transaction (opening one if none is open). */
  async query<R extends QueryResultRow = QueryResultRow>(
    text: string | QueryConfig,
    values?: unknown[],
  ): Promise<QueryResult<R>> {
    const client = await this.begin();
    return typeof text === "string" ? client.query<R>(text, values) : client.query<R>(text);
  }

  /** Commit the open transaction, if any; a CommitFailed when nothing of it was written. */
  async commit(): Promise<void> {
    if (this.destroyed && this.opening) {
      this.opening = undefined;
      throw new CommitFailed(
        "the connection was closed before COMMIT (the container stopped or was killed); the transaction was rolled back",
      );
    }
    const client = await this.end();
    if (!client) return;
    let result: QueryResult;
    try {
      result = await client.query("COMMIT");
    } catch (err) {
      // PostgreSQL ends the transaction when COMMIT fails (rolled back); only a lost connection leaves doubt.
      if (!isServerError(err)) this.broken = err instanceof Error ? err : new Error(describeError(err));
      throw new CommitFailed(`COMMIT failed, the transaction was rolled back: ${describeError(err)}`, sqlState(err));
    }
    // COMMIT of a transaction an earlier error aborted answers ROLLBACK instead of failing.
    if (result.command === "ROLLBACK")
      throw new CommitFailed("COMMIT found the transaction aborted by an earlier error; it was rolled back", "25P02");
    this.options.log?.debug("sql transaction committed");
  }

  /** Roll back the open transaction, if any. */
  async rollback(): Promise<void> {
    // A destroyed connection took its transaction with it.
    if (this.destroyed) this.opening = undefined;
    const client = await this.end();
    if (!client) return;
    try {
      await client.query("ROLLBACK");
    } catch (err) {
      this.broken = err instanceof Error ? err : new Error(describeError(err));
      throw err;
    }
    this.options.log?.debug("sql transaction rolled back");
  }

  /** Roll back what is open and give the connection back to the pool (destroyed if it failed). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.rollback().catch(() => undefined);
    this.release();
  }

  /**
   * Give the connection up at once, destroying it: for a container being killed, or stopped while
   * the worker still runs. A later commit() fails with CommitFailed, since the transaction is lost.
   */
  destroy(): void {
    this.closed = true;
    this.destroyed = true;
    this.broken ??= new Error("session destroyed");
    this.release();
  }

  private release(): void {
    const client = this.client;
    this.client = undefined;
    client?.off("error", this.onClientError);
    client?.release(this.broken);
  }

  /**
   * A held connection that fails between queries (the server went away) emits `error`; node-postgres
   * listens only while a connection is idle in the pool, and an unheard `error` would end the process.
   */
  private readonly onClientError = (err: Error): void => {
    this.broken = err;
    this.options.log?.warn("database connection failed", { error: describeError(err) });
  };

  /** The connection, in a transaction: taken and begun on first use. */
  private begin(): Promise<PoolClient> {
    if (this.closed) return Promise.reject(new Error("the SQL session is closed (its worker finished)"));
    const opening = (this.opening ??= this.open());
    // A failed BEGIN leaves no transaction: the next query tries again.
    opening.catch(() => {
      if (this.opening === opening) this.opening = undefined;
    });
    return opening;
  }

  private async open(): Promise<PoolClient> {
    if (!this.client) {
      const taken = await this.pool.connect();
      // Destroyed while the connection was being taken: it goes straight back, or the pool's end would wait for it.
      if (this.destroyed) {
        taken.release(this.broken);
        throw new Error("the SQL session was closed (its container stopped) while connecting");
      }
      this.client = taken;
      this.client.on("error", this.onClientError);
    }
    const client = this.client;
    // One round trip: BEGIN and the call id, which SET LOCAL scopes to this transaction.
    const callId = this.options.callId;
    const sql =
      callId === undefined ? "BEGIN" : `BEGIN; SET LOCAL ${CALL_ID_SETTING} = ${client.escapeLiteral(callId)}`;
    try {
      await client.query(sql);
    } catch (err) {
      if (!isServerError(err)) this.broken = err instanceof Error ? err : new Error(describeError(err));
      throw err;
    }
    this.options.log?.debug("sql transaction begun");
    return client;
  }

  /** Close the current transaction's bookkeeping; the connection when a transaction was open. */
  private async end(): Promise<PoolClient | undefined> {
    const opening = this.opening;
    if (!opening) return undefined;
    this.opening = undefined;
    // A transaction whose BEGIN failed was never open: nothing to end.
    return opening.catch(() => undefined);
  }
}

/**
 * An error the server sent (node-postgres's DatabaseError: a severity and a SQLSTATE), as opposed
 * to a connection that failed. Read from its fields, so this module never loads node-postgres.
 */
function isServerError(err: unknown): err is DatabaseError {
  const e = err as { severity?: unknown; code?: unknown } | null;
  return err instanceof Error && typeof e?.severity === "string" && typeof e.code === "string";
}

/** PostgreSQL's SQLSTATE of a server error. */
function sqlState(err: unknown): string | undefined {
  return isServerError(err) ? err.code : undefined;
}
