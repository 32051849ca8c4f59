// WebSocket RPC (docs/websocket.md) over a real socket with Nameko's frames: a `ws` client against
// `/ws` of the shared web server, with a real nats-server under the container.
import {
  ConfigurationError,
  ServiceContainer,
  ServiceDefinitionError,
  ValueError,
  WebSocketHub,
  wsRpc,
  http,
} from "cliffracer";
import { WsRpcEntrypoint } from "../../../src/entrypoints/websocket";
import { NatsFixture } from "../../helpers/brokers";
import { WsClient } from "../../helpers/ws-client";
import { deferred, withTimeout } from "../../helpers/waiters";

const ADDRESS = { webServerAddress: "127.0.0.1:0" };

class Sockets {
  name = "ws_sockets";

  @WebSocketHub() hub!: WebSocketHub;

  @wsRpc()
  echo(_socketId: string, value: unknown) {
    return value;
  }

  @wsRpc()
  whoami(socketId: string) {
    return socketId;
  }

  @wsRpc()
  fail(_socketId: string) {
    throw new ValueError("bad value");
  }

  @wsRpc()
  unencodable(_socketId: string) {
    return new Set([1]);
  }

  @wsRpc()
  join(socketId: string, channel: string, of: string | null = null) {
    this.hub.subscribe(of ?? socketId, channel);
    return this.hub.getSubscriptions(of ?? socketId);
  }

  @wsRpc()
  leave(socketId: string, channel: string) {
    this.hub.unsubscribe(socketId, channel);
    return this.hub.getSubscriptions(socketId);
  }

  @wsRpc()
  subscriptions(_socketId: string, of: string) {
    return this.hub.getSubscriptions(of);
  }

  @wsRpc()
  shout(socketId: string, channel: string, text: string) {
    this.hub.broadcast(channel, "shout", { text, from: socketId });
    return true;
  }

  @wsRpc()
  tell(_socketId: string, to: string, text: string) {
    return this.hub.unicast(to, "told", { text });
  }

  @http("GET", "/other")
  other() {
    return "plain";
  }
}

class SecondEndpoint {
  name = "ws_second";

  @wsRpc()
  ping(_socketId: string) {
    return "pong";
  }
}

let slowStarted = deferred();
let release = deferred();

class SlowEndpoint {
  name = "ws_slow";

  @wsRpc()
  async slow(_socketId: string) {
    slowStarted.resolve();
    await release.promise;
    return "done";
  }
}

function wsUrl(container: ServiceContainer): string {
  const entrypoint = container.entrypoints.find((e): e is WsRpcEntrypoint => e instanceof WsRpcEntrypoint);
  if (!entrypoint?.url) throw new Error(`${container.serviceName} has no started @wsRpc entrypoint`);
  return entrypoint.url;
}

const MALFORMED =
  '{"type": "result", "success": false, "error": {"exc_type": "MalformedRequest", "exc_path": "nameko.exceptions.MalformedRequest", "exc_args": ["Invalid JSON data"], "value": "Invalid JSON data"}, "correlation_id": null}';

describe("websocket rpc", () => {
  const fx = new NatsFixture(ADDRESS);
  let url: string;
  const clients: WsClient[] = [];
  const connect = async (): Promise<WsClient> => {
    const client = await WsClient.connect(url);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    url = wsUrl(await fx.start(Sockets));
  });
  afterAll(async () => {
    for (const c of clients) c.socket.terminate();
    await fx.cleanup();
  });

  it("sends the connected event with a fresh socket id on connect", async () => {
    const [a, b] = [await connect(), await connect()];
    expect(a.connectedFrame).toMatch(
      /^\{"type": "event", "event": "connected", "data": \{"socket_id": "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"\}\}$/,
    );
    expect(a.socketId).not.toBe(b.socketId);
    expect(await a.call("whoami")).toMatchObject({ success: true, data: a.socketId });
  });

  it("answers a call with Nameko's result frame, byte for byte, echoing the correlation id", async () => {
    const c = await connect();
    expect(await c.exchange('{"method": "echo", "data": {"value": ["h\\u00e9", 1.5]}, "correlation_id": 7}')).toBe(
      '{"type": "result", "success": true, "data": ["h\\u00e9", 1.5], "correlation_id": 7}',
    );
    expect(await c.exchange('{"method": "echo", "data": {"value": null}}')).toBe(
      '{"type": "result", "success": true, "data": null, "correlation_id": null}',
    );
    // A falsy data is no arguments, as Nameko's `data.get("data") or {}`.
    expect(await c.exchange('{"method": "whoami", "data": [], "correlation_id": "x"}')).toBe(
      `{"type": "result", "success": true, "data": "${c.socketId}", "correlation_id": "x"}`,
    );
  });

  it("answers a method's error with Nameko's error frame", async () => {
    const c = await connect();
    expect(await c.exchange('{"method": "fail", "correlation_id": "f"}')).toBe(
      '{"type": "result", "success": false, "error": {"exc_type": "ValueError", "exc_path": "builtins.ValueError", "exc_args": ["bad value"], "value": "bad value"}, "correlation_id": "f"}',
    );
    const unencodable = await c.call("unencodable", {}, 2);
    expect(unencodable).toMatchObject({ success: false, correlation_id: 2 });
    expect(unencodable.error?.exc_type).toBe("UnserializableValueError");
  });

  it("answers frames that are not JSON or name no method with MalformedRequest, and keeps the socket open", async () => {
    const c = await connect();
    expect(await c.exchange("not json")).toBe(MALFORMED);
    expect(await c.exchange('{"data": {"value": 1}, "correlation_id": 5}')).toBe(MALFORMED);
    expect(await c.exchange('["echo"]')).toBe(MALFORMED);
    expect(await c.exchange("")).toBe(MALFORMED);
    expect(await c.call("echo", { value: "still here" }, 1)).toMatchObject({ success: true, data: "still here" });
  });

  it("answers an unknown method with MethodNotFound and wrong arguments with IncorrectSignature", async () => {
    const c = await connect();
    expect(await c.exchange('{"method": "nope", "correlation_id": "m"}')).toBe(
      '{"type": "result", "success": false, "error": {"exc_type": "MethodNotFound", "exc_path": "nameko.exceptions.MethodNotFound", "exc_args": [], "value": ""}, "correlation_id": "m"}',
    );
    // The hub is a dependency, not a method.
    expect((await c.call("hub")).error?.exc_type).toBe("MethodNotFound");
    const extra = await c.call("echo", { value: 1, other: 2 });
    expect(extra.error).toMatchObject({
      exc_type: "IncorrectSignature",
      exc_path: "nameko.exceptions.IncorrectSignature",
    });
    expect(extra.error?.value).toContain("'other'");
    expect((await c.exchange('{"method": "echo", "data": [1]}')).includes('"IncorrectSignature"')).toBe(true);
    expect(await c.call("echo", { value: "ok" })).toMatchObject({ success: true, data: "ok" });
  });

  it("reads a binary frame holding JSON as Nameko reads it", async () => {
    const c = await connect();
    const reply = await c.exchange(Buffer.from('{"method": "echo", "data": {"value": "bin"}, "correlation_id": 3}'));
    expect(reply).toBe('{"type": "result", "success": true, "data": "bin", "correlation_id": 3}');
  });

  it("broadcasts to the sockets subscribed to a channel, and unicasts to one socket", async () => {
    const [a, b, outsider] = [await connect(), await connect(), await connect()];
    expect(await a.call("join", { channel: "room" })).toMatchObject({ success: true, data: ["room"] });
    expect(await b.call("join", { channel: "zoo" })).toMatchObject({ data: ["zoo"] });
    expect(await b.call("join", { channel: "room" })).toMatchObject({ data: ["room", "zoo"] });

    // The broadcast is sent while the method runs, so it reaches the caller before its reply.
    const event = '{"type": "event", "event": "shout", "data": {"text": "hi", "from": "' + a.socketId + '"}}';
    expect(await a.exchange('{"method": "shout", "data": {"channel": "room", "text": "hi"}}')).toBe(event);
    expect(await a.next()).toBe('{"type": "result", "success": true, "data": true, "correlation_id": null}');
    expect(await b.next()).toBe(event);
    // Nothing reached the outsider: its next frame is the reply to its own call.
    expect(await outsider.call("whoami")).toMatchObject({ type: "result", data: outsider.socketId });

    expect(await outsider.call("tell", { to: b.socketId, text: "psst" })).toMatchObject({ data: true });
    expect(await b.next()).toBe('{"type": "event", "event": "told", "data": {"text": "psst"}}');
    expect(await outsider.call("tell", { to: "no-such-socket", text: "psst" })).toMatchObject({ data: false });

    expect(await b.call("leave", { channel: "room" })).toMatchObject({ data: ["zoo"] });
    await a.exchange('{"method": "shout", "data": {"channel": "room", "text": "again"}}');
    expect(await a.next()).toContain('"type": "result"');
    expect(await b.call("whoami")).toMatchObject({ type: "result", data: b.socketId });
  });

  it("forgets a closed socket: its subscriptions are gone and it can no longer be subscribed or told", async () => {
    const [a, gone] = [await connect(), await connect()];
    await gone.call("join", { channel: "room" });
    const goneId = gone.socketId;
    await gone.close();
    expect(await a.call("subscriptions", { of: goneId })).toMatchObject({ data: [] });
    expect(await a.call("tell", { to: goneId, text: "hello?" })).toMatchObject({ data: false });
    const subscribe = await a.call("join", { channel: "room", of: goneId });
    expect(subscribe.error).toEqual({
      exc_type: "ConnectionNotFound",
      exc_path: "nameko.exceptions.ConnectionNotFound",
      exc_args: [goneId],
      value: goneId,
    });
    // A broadcast to the channel the closed socket was in still reaches the others.
    await a.call("join", { channel: "room" });
    expect(await a.exchange('{"method": "shout", "data": {"channel": "room", "text": "x"}}')).toContain(
      '"event": "shout"',
    );
    expect(await a.next()).toContain('"success": true');
  });

  it("answers a plain GET of /ws with 400, and an upgrade of another path over HTTP", async () => {
    const httpUrl = url.replace(/^ws/, "http");
    const plain = await fetch(httpUrl);
    expect(plain.status).toBe(400);
    expect(await plain.text()).toBe("");
    await expect(WsClient.connect(httpUrl.replace(/\/ws$/, "/elsewhere").replace(/^http/, "ws"))).rejects.toThrow(
      /Unexpected server response: 404/,
    );
    expect(await (await fetch(httpUrl.replace(/\/ws$/, "/other"))).text()).toBe("plain");
  });

  it("refuses a second service serving /ws on the same address", async () => {
    const start = fx.start(SecondEndpoint);
    await expect(start).rejects.toThrow(ConfigurationError);
    await expect(start).rejects.toThrow(/already served by ws_sockets/);
  });
});

describe("websocket rpc lifecycle", () => {
  const fx = new NatsFixture({ webServerAddress: "127.0.0.1:0" });
  afterAll(() => fx.cleanup());

  it("closes open sockets with 1001 when the service stops", async () => {
    const container = await fx.start(SecondEndpoint);
    const client = await WsClient.connect(wsUrl(container));
    expect(await client.call("ping")).toMatchObject({ data: "pong" });
    await container.stop();
    expect(await withTimeout(client.closed.promise, 5000, "the close")).toBe(1001);
  });

  it("answers a call in flight before closing when the service stops; a kill cuts the socket", async () => {
    [slowStarted, release] = [deferred(), deferred()];
    const container = await fx.start(SlowEndpoint);
    const client = await WsClient.connect(wsUrl(container));
    const reply = client.exchange('{"method": "slow", "correlation_id": 1}');
    await withTimeout(slowStarted.promise, 5000, "the slow call");
    const stopped = container.stop();
    release.resolve();
    expect(await reply).toBe('{"type": "result", "success": true, "data": "done", "correlation_id": 1}');
    expect(await withTimeout(client.closed.promise, 5000, "the close")).toBe(1001);
    await stopped;

    const killed = await fx.start(SlowEndpoint);
    const cut = await WsClient.connect(wsUrl(killed));
    await killed.kill();
    // Cut without a close frame: ws reports 1006.
    expect(await withTimeout(cut.closed.promise, 5000, "the cut")).toBe(1006);
  });

  it("refuses a @wsRpc method without a parameter for the socket id when the class is defined", () => {
    expect(() => {
      class NoSocket {
        name = "no_socket";
        @wsRpc()
        ping() {
          return "pong";
        }
      }
      return NoSocket;
    }).toThrow(ServiceDefinitionError);
  });
});
