/**
 * The RabbitMQ management API, as far as Cliffracer uses it: reading consumers and connections
 * (bridge discovery, docs/bridge-contract.md, Discovery) and switching a vhost's firehose tracer
 * (recording, docs/cassettes.md, Recording from RabbitMQ). Requires the rabbitmq_management plugin.
 */

/** Where the RabbitMQ management API is and which vhost to look at. */
export interface ManagementTarget {
  /** Base URL, credentials allowed (`http://guest:guest@host:15672`). */
  url: string;
  vhost: string;
}

/** An answer of the management API that was not a success, or no answer at all. */
export class ManagementApiError extends Error {
  override readonly name = "ManagementApiError";
  constructor(
    readonly path: string,
    /** The HTTP status; undefined when the API could not be reached. */
    readonly status: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The vhost an AMQP URI names (`/` when the path is empty or a lone slash). */
export function vhostOf(amqpUri: string): string {
  const path = new URL(amqpUri).pathname;
  return path.length > 1 ? decodeURIComponent(path.slice(1)) : "/";
}

/** `http://user:pass@host:15672` from the AMQP URI's host and credentials. */
export function defaultManagementUrl(amqpUri: string): string {
  const u = new URL(amqpUri);
  const user = u.username === "" ? "guest" : u.username;
  const pass = u.password === "" ? "guest" : u.password;
  return `http://${user}:${pass}@${u.hostname || "localhost"}:15672`;
}

/** A vhost as the management API describes it (the fields Cliffracer reads). */
export interface ManagementVhost {
  name: string;
  tracing: boolean;
  description?: string;
  /** A list, or comma-separated text for a vhost made by `rabbitmqctl add_vhost`. */
  tags?: string[] | string;
}

const TIMEOUT_MS = 5_000;

/** A client of one management API; credentials come from the URL (guest/guest when it has none). */
export class ManagementApi {
  private readonly base: URL;
  private readonly auth: string;

  constructor(url: string) {
    const base = new URL(url);
    const user = decodeURIComponent(base.username || "guest");
    const pass = decodeURIComponent(base.password || "guest");
    this.auth = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
    base.username = "";
    base.password = "";
    this.base = base;
  }

  /** GET `path` as JSON; throws {@link ManagementApiError} on a failure status or no answer. */
  async getJson<T>(path: string): Promise<T> {
    const res = await this.request("GET", path);
    return (await res.json()) as T;
  }

  /** PUT `body` as JSON to `path`; throws {@link ManagementApiError} on a failure status or no answer. */
  async putJson(path: string, body: unknown): Promise<void> {
    await this.request("PUT", path, body);
  }

  /** DELETE `path`; throws {@link ManagementApiError} on a failure status or no answer. */
  async delete(path: string): Promise<void> {
    await this.request("DELETE", path);
  }

  /** The vhost `name`. */
  vhost(name: string): Promise<ManagementVhost> {
    return this.getJson<ManagementVhost>(`/api/vhosts/${encodeURIComponent(name)}`);
  }

  /**
   * Switches the firehose tracer of `vhost` on or off, keeping its description and tags (a PUT
   * replaces them). The management user needs the `administrator` tag.
   */
  async setTracing(vhost: ManagementVhost, on: boolean): Promise<void> {
    await this.putJson(`/api/vhosts/${encodeURIComponent(vhost.name)}`, {
      description: vhost.description ?? "",
      tags: Array.isArray(vhost.tags) ? vhost.tags.join(",") : (vhost.tags ?? ""),
      tracing: on,
    });
  }

  private async request(method: "GET" | "PUT" | "DELETE", path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.base), {
        method,
        headers: {
          authorization: this.auth,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      const why = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new ManagementApiError(
        path,
        undefined,
        `management API ${method} ${path}: no answer from ${this.base.origin} (${why})`,
      );
    }
    if (!res.ok) {
      const text = (await res.text().catch(() => "")).slice(0, 200);
      throw new ManagementApiError(
        path,
        res.status,
        `management API ${method} ${path}: HTTP ${res.status} ${text}`.trim(),
      );
    }
    return res;
  }
}
