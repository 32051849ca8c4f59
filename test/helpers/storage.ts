// PostgreSQL and Redis for the provider tests: a private schema or key prefix per test, dropped or
// deleted at cleanup, and an admin connection to look at what the service did.
import IORedis from "ioredis";
import { Client } from "pg";
import { uniquePrefix } from "./brokers";

/** The database the tests use: user postgres without a password on 127.0.0.1 (scripts/ensure-servers.sh). */
export const PG_URL = process.env.PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
/** The Redis the tests use. */
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";

/** A schema of its own in the test database, and an admin connection outside any service. */
export class PgSchema {
  readonly name = uniquePrefix();
  readonly admin = new Client({ connectionString: PG_URL });

  static async create(): Promise<PgSchema> {
    const schema = new PgSchema();
    await schema.admin.connect();
    await schema.admin.query(`CREATE SCHEMA ${schema.name}`);
    return schema;
  }

  /** `table` qualified by this schema. */
  table(table: string): string {
    return `${this.name}.${table}`;
  }

  /** Connections of the server whose application_name is `applicationName` (pg_stat_activity). */
  async connectionsOf(applicationName: string): Promise<number> {
    const { rows } = await this.admin.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1",
      [applicationName],
    );
    return rows[0]?.n ?? 0;
  }

  async cleanup(): Promise<void> {
    await this.admin.query(`DROP SCHEMA IF EXISTS ${this.name} CASCADE`);
    await this.admin.end();
  }
}

/** A key prefix of its own in the test Redis, and an admin client; cleanup deletes the prefix's keys. */
export class RedisKeys {
  readonly prefix = `${uniquePrefix()}:`;
  readonly admin = new IORedis(REDIS_URL, { connectionName: "cliffracer-test-admin" });

  /** `key` under this test's prefix. */
  key(key: string): string {
    return `${this.prefix}${key}`;
  }

  /** Connections whose CLIENT SETNAME is `name`. */
  async connectionsNamed(name: string): Promise<number> {
    const list = (await this.admin.client("LIST")) as string;
    return list.split("\n").filter((line) => line.split(" ").includes(`name=${name}`)).length;
  }

  async cleanup(): Promise<void> {
    const keys = await this.admin.keys(`${this.prefix}*`);
    if (keys.length > 0) await this.admin.del(...keys);
    await this.admin.quit();
  }
}
