// cliffracer/sql against the real PostgreSQL, through services on real NATS: a worker's session is
// committed when it succeeds and rolled back when it fails, before the caller hears; each
// transaction carries the worker's call id; the pool is closed at stop and kill; bad configuration
// and a database that is down fail start-up with errors that say why.
import {
  Context,
  rpc,
  ConfigurationError,
  registerEntrypoint,
  RpcTimeout,
  ValueError,
  type Entrypoint,
  type WorkerContext,
} from "cliffracer";
import {
  CommitFailed,
  Database,
  DatabaseSession,
  DatabaseUnavailable,
  type DatabaseWrapper,
  type SqlSession,
} from "cliffracer/sql";
import { NatsFixture, uniqueName } from "../../helpers/brokers";
import { PG_URL, PgSchema } from "../../helpers/storage";
import { TcpProxy } from "../../helpers/tcp-proxy";
import { deferred, waitFor, withTimeout } from "../../helpers/waiters";

const SERVICE = uniqueName("sql_items");
let schema: PgSchema;
let items: string;

class Items {
  name = SERVICE;

  @DatabaseSession("Base") db!: SqlSession;
  @Context() ctx!: WorkerContext;

  @rpc()
  async add(...names: string[]) {
    for (const n of names) await this.db.query(`INSERT INTO ${items} (name) VALUES ($1)`, [n]);
    return names.length;
  }

  @rpc()
  async addThenFail(name: string) {
    await this.db.query(`INSERT INTO ${items} (name) VALUES ($1)`, [name]);
    throw new ValueError(`refusing ${name}`);
  }

  @rpc()
  async swallowError(name: string) {
    await this.db.query(`INSERT INTO ${items} (name) VALUES ($1)`, [name]);
    // A failed statement aborts the transaction; catching it does not make the earlier write committable.
    await this.db.query(`INSERT INTO ${items} (name) VALUES (NULL)`).catch(() => undefined);
    return "looks fine";
  }

  @rpc()
  async commitThenFail(kept: string, lost: string) {
    await this.db.query(`INSERT INTO ${items} (name) VALUES ($1)`, [kept]);
    await this.db.commit();
    await this.db.query(`INSERT INTO ${items} (name) VALUES ($1)`, [lost]);
    throw new ValueError(`refusing ${lost}`);
  }

  @rpc()
  async whoAmI() {
    const { rows } = await this.db.query<{ call_id: string; app: string }>(
      "SELECT current_setting('cliffracer.call_id') AS call_id, current_setting('application_name') AS app",
    );
    return { ...rows[0], callId: this.ctx.callId };
  }
}

const uris = (uri = PG_URL) => ({ DB_URIS: { [`${SERVICE}:Base`]: uri } });

async function names(): Promise<string[]> {
  const { rows } = await schema.admin.query<{ name: string }>(`SELECT name FROM ${items} ORDER BY id`);
  return rows.map((r) => r.name);
}

describe("SQL provider (DatabaseSession) on PostgreSQL", () => {
  const fx = new NatsFixture();

  beforeAll(async () => {
    schema = await PgSchema.create();
    items = schema.table("items");
    // Unique, checked at COMMIT: duplicates inserted by one worker fail only when it commits.
    await schema.admin.query(
      `CREATE TABLE ${items} (id serial PRIMARY KEY, name text NOT NULL UNIQUE DEFERRABLE INITIALLY DEFERRED)`,
    );
  });
  beforeEach(() => schema.admin.query(`TRUNCATE ${items}`));
  afterAll(async () => {
    await fx.cleanup();
    await schema.cleanup();
  });

  it("commits a worker's writes when it succeeds", async () => {
    await fx.start(Items, { raw: uris() });
    const client = await fx.client();
    expect(await client.call(SERVICE, "add", ["a", "b"])).toBe(2);
    expect(await names()).toEqual(["a", "b"]);
  });

  it("rolls back a worker's writes when it fails; the caller gets the method's error", async () => {
    const client = await fx.client();
    await expect(client.call(SERVICE, "addThenFail", ["x"])).rejects.toMatchObject({
      excType: "ValueError",
      value: "refusing x",
    });
    expect(await names()).toEqual([]);
  });

  it("a failed COMMIT rolls back and the caller gets CommitFailed, never a success", async () => {
    const client = await fx.client();
    const error = await client.call(SERVICE, "add", ["dup", "dup"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitFailed);
    expect((error as CommitFailed).message).toMatch(/COMMIT failed.*duplicate key value violates unique constraint/);
    expect(await names()).toEqual([]);
    // The connection went back to the pool in a usable state.
    expect(await client.call(SERVICE, "add", ["after"])).toBe(1);
    expect(await names()).toEqual(["after"]);
  });

  it("a method that swallowed a failed statement gets CommitFailed: the transaction was aborted", async () => {
    const client = await fx.client();
    const error = await client.call(SERVICE, "swallowError", ["y"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommitFailed);
    expect((error as Error).message).toBe(
      "COMMIT found the transaction aborted by an earlier error; it was rolled back",
    );
    expect(await names()).toEqual([]);
  });

  it("keeps what the method committed itself and rolls back only what came after", async () => {
    const client = await fx.client();
    await expect(client.call(SERVICE, "commitThenFail", ["kept", "lost"])).rejects.toMatchObject({
      excType: "ValueError",
    });
    expect(await names()).toEqual(["kept"]);
  });

  it("each transaction carries the worker's call id; connections carry the service name", async () => {
    const client = await fx.client();
    const seen = (await client.call(SERVICE, "whoAmI", [])) as { call_id: string; app: string; callId: string };
    expect(seen.call_id).toBe(seen.callId);
    expect(seen.call_id).toMatch(new RegExp(`^${SERVICE}\\.whoAmI\\.[0-9a-f-]{36}$`));
    expect(seen.app).toBe(SERVICE);
  });

  it("a connection the server drops is replaced: calls fail with an error at worst, then succeed", async () => {
    const client = await fx.client();
    expect(await client.call(SERVICE, "add", ["before"])).toBe(1);
    await schema.admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [
      SERVICE,
    ]);
    // A pooled connection may be handed out before its close is noticed: that call fails, promptly.
    const outcomes: unknown[] = [];
    await waitFor(
      async () => {
        const outcome = await client.call(SERVICE, "add", [`after-${outcomes.length}`]).catch((e: unknown) => e);
        outcomes.push(outcome);
        return outcome === 1;
      },
      { what: "a call to succeed after the connections were dropped" },
    );
    // Failed while BEGIN, a query or COMMIT met the dropped connection: an error reply, not a timeout.
    for (const failed of outcomes.slice(0, -1)) expect(failed).toBeInstanceOf(Error);
    expect(outcomes.slice(0, -1).filter((e) => e instanceof RpcTimeout)).toEqual([]);
    expect(outcomes.length).toBeLessThanOrEqual(3);
  });

  it("closes the pool's connections when the container stops, and when it is killed", async () => {
    // A service name of its own, so the connections counted are this container's.
    const closing = uniqueName("sql_closing");
    class Closing extends Items {
      override name = closing;
    }
    for (const end of ["stop", "kill"] as const) {
      const container = await fx.start(Closing, { raw: { DB_URIS: { [`${closing}:Base`]: PG_URL } } });
      const client = await fx.client();
      await Promise.all(["p", "q", "r"].map((n) => client.call(closing, "add", [`${end}-${n}`])));
      expect(await schema.connectionsOf(closing)).toBeGreaterThan(0);
      await container[end]();
      await waitFor(async () => (await schema.connectionsOf(closing)) === 0, {
        what: `no connection named ${closing} after ${end}`,
      });
    }
  });
});

describe("SQL provider at a stop that outlasts SHUTDOWN_TIMEOUT", () => {
  const fx = new NatsFixture();
  const service = uniqueName("sql_stuck");
  const gate = deferred();
  const holding = deferred();

  /** An entrypoint of the service's own (docs/extensions.md) whose stop does not wait for its workers. */
  const manual = (): MethodDecorator => (target, key) =>
    registerEntrypoint(target, (): Entrypoint => ({ methodName: String(key) }));

  class Stuck {
    name = service;
    @DatabaseSession("Base") db!: SqlSession;

    @manual()
    async hold() {
      await this.db.query("SELECT 1");
      holding.resolve();
      await gate.promise;
    }
  }

  afterAll(() => fx.cleanup());

  it("destroys the connections of workers still running, so the stop ends; those workers fail", async () => {
    const container = await fx.start(Stuck, {
      raw: { DB_URIS: { [`${service}:Base`]: PG_URL } },
      shutdownTimeoutMs: 100,
    });
    const worker = container.spawnWorker(container.entrypoints[0]!, [], { data: {}, parentStack: [] });
    await holding.promise;
    const admin = await PgSchema.create();
    try {
      expect(await admin.connectionsOf(service)).toBe(1);
      // ending the pool alone would wait for the held connection, i.e. for the stuck worker
      await withTimeout(container.stop(), 20_000, "the stop to end");
      await waitFor(async () => (await admin.connectionsOf(service)) === 0, { what: `no connection of ${service}` });
      // The worker, let go, is not told "success": its transaction went with the connection.
      gate.resolve();
      const outcome = await worker;
      expect(outcome.ok).toBe(false);
      expect((outcome as { error: unknown }).error).toBeInstanceOf(CommitFailed);
    } finally {
      gate.resolve();
      await worker;
      await admin.cleanup();
    }
  });
});

describe("SQL provider (Database) on PostgreSQL", () => {
  const fx = new NatsFixture();
  const service = uniqueName("sql_ledger");
  let ledgerSchema: PgSchema;
  let ledger: string;

  class Ledger {
    name = service;
    @Database("Base") db!: DatabaseWrapper;

    @rpc()
    async record(entry: string) {
      // Audited in a transaction of its own: kept although the worker fails.
      await this.db.transaction((s) => s.query(`INSERT INTO ${ledger} (entry) VALUES ($1)`, [`audit ${entry}`]));
      await this.db.session.query(`INSERT INTO ${ledger} (entry) VALUES ($1)`, [entry]);
      if (entry.startsWith("bad")) throw new ValueError(entry);
      return entry;
    }

    @rpc()
    async draft(entry: string, commit: boolean) {
      // A session of its own: committed only when the method says so.
      const own = this.db.getSession();
      await own.query(`INSERT INTO ${ledger} (entry) VALUES ($1)`, [entry]);
      if (commit) await own.commit();
      return entry;
    }
  }

  beforeAll(async () => {
    ledgerSchema = await PgSchema.create();
    ledger = ledgerSchema.table("ledger");
    await ledgerSchema.admin.query(`CREATE TABLE ${ledger} (id serial PRIMARY KEY, entry text NOT NULL)`);
    await fx.start(Ledger, { raw: { DB_URIS: { [`${service}:Base`]: PG_URL } } });
  });
  afterAll(async () => {
    await fx.cleanup();
    await ledgerSchema.cleanup();
  });

  it("commits db.session with the worker and db.transaction() on its own", async () => {
    const client = await fx.client();
    expect(await client.call(service, "record", ["good"])).toBe("good");
    await expect(client.call(service, "record", ["bad"])).rejects.toMatchObject({ excType: "ValueError" });
    const { rows } = await ledgerSchema.admin.query<{ entry: string }>(`SELECT entry FROM ${ledger} ORDER BY id`);
    expect(rows.map((r) => r.entry)).toEqual(["audit good", "good", "audit bad"]);
  });

  it("rolls back what a db.getSession() session did not commit when the worker finishes", async () => {
    const client = await fx.client();
    expect(await client.call(service, "draft", ["kept draft", true])).toBe("kept draft");
    expect(await client.call(service, "draft", ["dropped draft", false])).toBe("dropped draft");
    const { rows } = await ledgerSchema.admin.query<{ entry: string }>(
      `SELECT entry FROM ${ledger} WHERE entry LIKE '%draft' ORDER BY id`,
    );
    expect(rows.map((r) => r.entry)).toEqual(["kept draft"]);
  });
});

describe("SQL provider when the database goes away", () => {
  const fx = new NatsFixture();
  const service = uniqueName("sql_outage");
  let proxy: TcpProxy;

  class Pinger {
    name = service;
    @DatabaseSession("Base") db!: SqlSession;

    @rpc()
    async ping() {
      const { rows } = await this.db.query<{ one: number }>("SELECT 1 AS one");
      return rows[0]?.one;
    }
  }

  const through = (options: Record<string, unknown> = {}) => ({
    DB_URIS: { [`${service}:Base`]: proxy.via(PG_URL) },
    DB_ENGINE_OPTIONS: { connectionTimeoutMillis: 1000, ...options },
  });

  beforeEach(async () => {
    proxy = await TcpProxy.start(new URL(PG_URL).port === "" ? 5432 : Number(new URL(PG_URL).port));
  });
  afterEach(() => proxy.close());
  afterAll(() => fx.cleanup());

  it("calls fail with an error reply while it is unreachable, and succeed once it is back", async () => {
    await fx.start(Pinger, { raw: through() });
    const client = await fx.client();
    expect(await client.call(service, "ping", [])).toBe(1);
    await proxy.cut();
    const failed = await client.call(service, "ping", []).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    expect(failed).not.toBeInstanceOf(RpcTimeout);
    await proxy.restore();
    await waitFor(async () => (await client.call(service, "ping", []).catch(() => undefined)) === 1, {
      what: "a call to succeed once the database is back",
    });
  });

  it("a database that accepts connections and never answers fails start-up after connectionTimeoutMillis", async () => {
    await proxy.silence();
    const error = await withTimeout(fx.start(Pinger, { raw: through() }), 20_000, "start-up to fail").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseUnavailable);
    expect((error as Error).message).toMatch(/connection timeout/);
  });
});

describe("SQL provider bad input", () => {
  const fx = new NatsFixture();
  afterAll(() => fx.cleanup());

  it("a database that is down fails start-up with DatabaseUnavailable, not a hang", async () => {
    const down = "postgresql://postgres:secret@127.0.0.1:1/test";
    const started = fx.start(Items, { raw: uris(down) });
    const error = await withTimeout(started, 20_000, "start-up to fail").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseUnavailable);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^Cannot connect to database ${SERVICE}:Base at postgresql://postgres:\\*\\*\\*@127\\.0\\.0\\.1:1/test: .*ECONNREFUSED`,
      ),
    );
  });

  it("a missing DB_URIS is a ConfigurationError naming the key and the keys present", async () => {
    const error = await fx.start(Items, { raw: { REDIS_URIS: {} } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      `Config key DB_URIS is missing: service ${SERVICE} needs DB_URIS["${SERVICE}:Base"] (config keys present: "REDIS_URIS")`,
    );
  });

  it("a misspelled DB_URIS entry is a ConfigurationError listing the entries there are", async () => {
    const error = await fx.start(Items, { raw: { DB_URIS: { [`${SERVICE}:Bsae`]: PG_URL } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      `Config key DB_URIS["${SERVICE}:Base"] is missing for service ${SERVICE} (DB_URIS has: "${SERVICE}:Bsae")`,
    );
  });

  it("a misspelled DB_ENGINE_OPTIONS key, or one of the wrong type, is a ConfigurationError naming it", async () => {
    const misspelled = await fx
      .start(Items, { raw: { ...uris(), DB_ENGINE_OPTIONS: { pool_sise: 5 } } })
      .catch((e: unknown) => e);
    expect(misspelled).toBeInstanceOf(ConfigurationError);
    expect((misspelled as Error).message).toMatch(
      /^Config key DB_ENGINE_OPTIONS\.pool_sise is not a pool option \(known: .*pool_size/,
    );
    const wrongType = await fx
      .start(Items, { raw: { ...uris(), DB_ENGINE_OPTIONS: { pool_size: "five" } } })
      .catch((e: unknown) => e);
    expect((wrongType as Error).message).toBe(
      'Config key DB_ENGINE_OPTIONS.pool_size must be a non-negative number, got "five"',
    );
  });

  it("a URI that is not PostgreSQL's is refused by name", async () => {
    const error = await fx.start(Items, { raw: uris("sqlite:///orders.sql") }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      `Config key DB_URIS["${SERVICE}:Base"] must be a postgresql:// URI (the SQL provider speaks PostgreSQL), got scheme "sqlite"`,
    );
  });
});
