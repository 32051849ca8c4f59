// @http (docs/nameko-wire.md, HTTP) on the shared web server, over real HTTP and a real nats-server.
import {
  BadRequest,
  Context,
  http,
  HttpResponse,
  rpc,
  RpcProxy,
  ServiceContainer,
  ServiceDefinitionError,
  ValueError,
  type HttpRequest,
  type ServiceProxy,
  type WorkerContext,
} from "cliffracer";
import { HttpEntrypoint } from "../../../src/entrypoints/http";
import { NatsFixture } from "../../helpers/brokers";
import { deferred, waitFor, withTimeout } from "../../helpers/waiters";

const ADDRESS = { webServerAddress: "127.0.0.1:0" };

class Backend {
  name = "http_backend";
  @Context() ctx!: WorkerContext;

  @rpc()
  whoami(): readonly string[] {
    return this.ctx.callIdStack;
  }
}

class Web {
  name = "web";
  @Context() ctx!: WorkerContext;
  @RpcProxy("http_backend") backend!: ServiceProxy;

  @http("GET", "/hello/<name>")
  hello(request: HttpRequest, name: string) {
    return `Hello, ${name}!`;
  }

  @http("POST", "/created")
  created(request: HttpRequest) {
    return [201, `got ${request.text()}`];
  }

  @http("GET", "/headers")
  withHeaders() {
    return [202, { "X-Thing": "yes", "Content-Type": "application/json" }, '{"a": 1}'];
  }

  @http("GET", "/response")
  response() {
    return HttpResponse.json(
      { a: 1 },
      {
        status: 203,
        headers: [
          ["set-cookie", "a=1"],
          ["set-cookie", "b=2"],
        ],
      },
    );
  }

  @http("GET", "/int/<int:n>")
  double(request: HttpRequest, n: number) {
    return `${typeof n} ${n * 2}`;
  }

  @http("GET", "/files/<path:path>/info")
  file(request: HttpRequest, path: string) {
    return path;
  }

  @http("GET,POST", "/echo")
  echo(request: HttpRequest) {
    return `${request.method} ${request.query.get("q")} ${request.text()}`;
  }

  @http("POST", "/json")
  json(request: HttpRequest) {
    return String((request.json() as { x: number }).x + 1);
  }

  @http("GET", "/bad-request")
  badRequest() {
    throw new BadRequest("nope");
  }

  @http("GET", "/expected", { expectedExceptions: [ValueError] })
  expected() {
    throw new ValueError("bad value");
  }

  @http("GET", "/boom")
  async boom() {
    throw new TypeError("kaboom");
  }

  @http("GET", "/dict")
  dict() {
    return { a: 1 };
  }

  @http("GET", "/nothing")
  nothing() {}

  @http("GET", "/relay")
  async relay() {
    const inner = await this.backend.whoami();
    return JSON.stringify({ inner, own: this.ctx.callIdStack, data: this.ctx.data });
  }
}

class Other {
  name = "other_web";

  @http("GET", "/other")
  other() {
    return "other";
  }
}

let slowStarted = deferred();
let release = deferred();

class Slow {
  name = "slow_web";

  @http("GET", "/slow")
  async slow() {
    slowStarted.resolve();
    await release.promise;
    return "done";
  }
}

function baseUrl(container: ServiceContainer): string {
  const entrypoint = container.entrypoints.find((e): e is HttpEntrypoint => e instanceof HttpEntrypoint);
  if (!entrypoint?.baseUrl) throw new Error(`${container.serviceName} has no started @http entrypoint`);
  return entrypoint.baseUrl;
}

async function get(url: string, init?: RequestInit): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, init);
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe("http entrypoint", () => {
  const fx = new NatsFixture(ADDRESS);
  let url: string;
  let web: ServiceContainer;

  beforeAll(async () => {
    await fx.start(Backend);
    web = await fx.start(Web);
    url = baseUrl(web);
  });
  afterAll(() => fx.cleanup());

  it("answers a string with 200 text/plain; charset=utf-8, path values by name, percent-decoded", async () => {
    const res = await get(`${url}/hello/J%C3%BCrgen`);
    expect(res).toMatchObject({ status: 200, text: "Hello, Jürgen!" });
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });

  it("answers [status, body] and [status, headers, body]", async () => {
    expect(await get(`${url}/created`, { method: "POST", body: "it" })).toMatchObject({ status: 201, text: "got it" });
    const res = await get(`${url}/headers`);
    expect(res).toMatchObject({ status: 202, text: '{"a": 1}' });
    expect(res.headers.get("x-thing")).toBe("yes");
    expect(res.headers.get("content-type")).toBe("application/json");
  });

  it("answers an HttpResponse with its status, content type and repeated headers", async () => {
    const res = await get(`${url}/response`);
    expect(res).toMatchObject({ status: 203, text: '{"a":1}' });
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });

  it("converts int path values, and answers 404 for a value the converter rejects", async () => {
    expect(await get(`${url}/int/21`)).toMatchObject({ status: 200, text: "number 42" });
    expect((await get(`${url}/int/x`)).status).toBe(404);
  });

  it("passes a path value spanning slashes", async () => {
    expect(await get(`${url}/files/a/b/c.txt/info`)).toMatchObject({ status: 200, text: "a/b/c.txt" });
  });

  it("serves several verbs, with the query and the raw body on the request", async () => {
    expect(await get(`${url}/echo?q=1`)).toMatchObject({ status: 200, text: "GET 1 " });
    const posted = await get(`${url}/echo?q=2`, {
      method: "POST",
      body: '{"any": "body"}',
      headers: { "content-type": "application/json" },
    });
    expect(posted).toMatchObject({ status: 200, text: 'POST 2 {"any": "body"}' });
  });

  it("answers HEAD for a GET rule without a body", async () => {
    const res = await get(`${url}/hello/x`, { method: "HEAD" });
    expect(res).toMatchObject({ status: 200, text: "" });
  });

  it("answers werkzeug's 404 for an unknown path and 405 with Allow for a wrong verb", async () => {
    const missing = await get(`${url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(missing.text).toContain("<title>404 Not Found</title>");
    const wrongVerb = await get(`${url}/hello/x`, { method: "DELETE" });
    expect(wrongVerb.status).toBe(405);
    expect(wrongVerb.headers.get("allow")).toBe("GET, HEAD");
  });

  it("maps BadRequest and expected exceptions to 400, anything else to 500, with Nameko's body", async () => {
    expect(await get(`${url}/bad-request`)).toMatchObject({ status: 400, text: "Error: BadRequest: nope\n" });
    expect(await get(`${url}/expected`)).toMatchObject({ status: 400, text: "Error: ValueError: bad value\n" });
    const boom = await get(`${url}/boom`);
    expect(boom).toMatchObject({ status: 500, text: "Error: TypeError: kaboom\n" });
    expect(boom.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });

  it("answers 400 when request.json() meets a body that is not JSON", async () => {
    expect(await get(`${url}/json`, { method: "POST", body: '{"x": 1}' })).toMatchObject({ status: 200, text: "2" });
    const bad = await get(`${url}/json`, { method: "POST", body: "not json" });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/^Error: BadRequest: Failed to decode JSON object: /);
  });

  it("answers 500 with Nameko's TypeError for a body that is not a string", async () => {
    expect(await get(`${url}/dict`)).toMatchObject({
      status: 500,
      text: "Error: TypeError: Payload must be a string. Got `{'a': 1}`\n",
    });
    expect(await get(`${url}/nothing`)).toMatchObject({
      status: 500,
      text: "Error: TypeError: Payload must be a string. Got `None`\n",
    });
  });

  it("runs the method as a worker whose stack starts with its own call id; HTTP headers carry no context", async () => {
    const res = await get(`${url}/relay`, {
      headers: { "nameko.call_id_stack": '["intruder.x.1"]', "nameko.user_id": "u-1" },
    });
    expect(res.status).toBe(200);
    const { inner, own, data } = JSON.parse(res.text) as { inner: string[]; own: string[]; data: object };
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(/^web\.relay\.[0-9a-f-]{36}$/);
    expect(inner).toHaveLength(2);
    expect(inner[0]).toBe(own[0]);
    expect(inner[1]).toMatch(/^http_backend\.whoami\.[0-9a-f-]{36}$/);
    expect(data).toEqual({});
  });

  it("shares one server between the containers of a process", async () => {
    const other = await fx.start(Other);
    expect(baseUrl(other)).toBe(url);
    expect(await get(`${url}/other`)).toMatchObject({ status: 200, text: "other" });
    await other.stop();
    // Its rules left with it; the server stays for the others.
    expect((await get(`${url}/other`)).status).toBe(404);
    expect((await get(`${url}/hello/still`)).status).toBe(200);
  });

  it("refuses, when the class is defined, path variables the method cannot take", () => {
    expect(() => {
      class Broken {
        name = "broken";
        @http("GET", "/a/<b>")
        a(request: HttpRequest) {
          return String(request);
        }
      }
      return Broken;
    }).toThrow(ServiceDefinitionError);
  });
});

describe("http entrypoint lifecycle", () => {
  const fx = new NatsFixture(ADDRESS);
  afterAll(() => {
    release.resolve();
    return fx.cleanup();
  });
  beforeEach(() => {
    slowStarted = deferred();
    release = deferred();
  });

  it("runs requests as workers bounded by max_workers", async () => {
    const container = await fx.start(Slow, { maxWorkers: 1 });
    const url = baseUrl(container);
    const first = get(`${url}/slow`);
    const second = get(`${url}/slow`);
    await withTimeout(slowStarted.promise, 10_000, "first request to start");
    await waitFor(() => container.pendingWorkers === 2);
    expect(container.activeWorkers).toBe(1);
    release.resolve();
    expect(await first).toMatchObject({ status: 200, text: "done" });
    expect(await second).toMatchObject({ status: 200, text: "done" });
    await container.stop();
  });

  it("stops gracefully: no new requests, the one in flight is answered, then the server closes", async () => {
    const container = await fx.start(Slow);
    const url = baseUrl(container);
    const inFlight = get(`${url}/slow`);
    await withTimeout(slowStarted.promise, 10_000, "request to start");
    const stopped = container.stop();
    // A new connection is refused (or a reused one told 503) while the slow request still runs.
    await waitFor(() =>
      fetch(`${url}/slow`).then(
        (r) => r.status === 503,
        () => true,
      ),
    );
    release.resolve();
    expect(await inFlight).toMatchObject({ status: 200, text: "done" });
    await withTimeout(stopped, 10_000, "container stop");
    await expect(fetch(`${url}/slow`)).rejects.toThrow();
  });

  it("cuts requests in flight when killed", async () => {
    const container = await fx.start(Slow);
    // The expectation is attached before the kill: the request may fail while kill() is awaited.
    const cut = expect(fetch(`${baseUrl(container)}/slow`)).rejects.toThrow();
    await withTimeout(slowStarted.promise, 10_000, "request to start");
    await withTimeout(container.kill(), 10_000, "container kill");
    await cut;
  });
});
