// Reading Nameko modules: the model of services, parameters, entrypoints, dependencies and errors,
// the report's entries with their lines, and the errors for input that cannot be ported.
import {
  emitInterface,
  emitService,
  NotANamekoService,
  PythonSyntaxError,
  readModule,
  ServiceNotFound,
  type ModuleModel,
} from "../../../port";

const read = (text: string, className?: string): ModuleModel => readModule("svc.py", text, { className });

const SERVICE = `from nameko.rpc import rpc, RpcProxy
from nameko.events import event_handler, EventDispatcher, SINGLETON
from nameko.timer import timer
from nameko.web.handlers import http
from nameko.dependency_providers import Config
from nameko_sqlalchemy import DatabaseSession
from nameko_redis import Redis
import datetime

from .helpers import audited, Cache


class Base:
    dispatch = EventDispatcher()


class Svc(Base):
    name = "svc"

    users = RpcProxy("users")
    config = Config()
    db = DatabaseSession(DeclarativeBase)
    redis = Redis("development")
    cache = Cache(ttl=5)

    @rpc(expected_exceptions=(KeyError, Missing), sensitive_arguments=("password",))
    def login(self, user, password, remember=False, *, ttl=3600):
        return True

    @rpc
    def when(self, at=datetime.datetime.now(), *args, **kwargs):
        pass

    @event_handler("orders", "order_created", handler_type=SINGLETON, requeue_on_error=True)
    def on_order(self, payload):
        pass

    @timer(interval=30)
    def tick(self):
        pass

    @http("GET", "/items/<int:item_id>")
    def item(self, request, item_id):
        pass

    @audited
    @rpc
    def wrapped(self, x: int = None) -> list[str]:
        pass


class Missing(Exception):
    pass
`;

describe("readModule", () => {
  const model = read(SERVICE);
  const svc = model.services[0];
  const method = (name: string) => svc.methods.find((m) => m.name === name)!;

  it("finds the service by its name attribute, with dependencies from its bases in the module", () => {
    expect(model.services.map((s) => [s.className, s.name])).toEqual([["Svc", "svc"]]);
    expect(svc.dependencies.map((d) => [d.attr, d.kind, d.arg])).toEqual([
      ["dispatch", "eventDispatcher", undefined],
      ["users", "rpcProxy", '"users"'],
      ["config", "config", undefined],
      ["db", "databaseSession", '"DeclarativeBase"'],
      ["redis", "redis", '"development"'],
      ["cache", "other", undefined],
    ]);
  });

  it("reads positional, defaulted, keyword-only, *args and **kwargs parameters", () => {
    expect(method("login").params).toEqual([
      { name: "user", kind: "positional", type: "unknown" },
      { name: "password", kind: "positional", type: "unknown" },
      { name: "remember", kind: "positional", type: "unknown", default: { python: "False", ts: "false" } },
      { name: "ttl", kind: "keywordOnly", type: "unknown", default: { python: "3600", ts: "3600" } },
    ]);
    expect(method("when").params.map((p) => [p.name, p.kind, p.default?.ts])).toEqual([
      ["at", "positional", undefined],
      ["args", "varArgs", undefined],
      ["kwargs", "varKwargs", undefined],
    ]);
    expect(method("wrapped").params).toEqual([
      { name: "x", kind: "positional", type: "number", default: { python: "None", ts: "null" } },
    ]);
    expect(method("wrapped").returns).toBe("string[]");
  });

  it("maps each entrypoint's options to Cliffracer's", () => {
    expect(method("login").entrypoints).toEqual([
      { kind: "rpc", expectedExceptions: ["KeyError", "Missing"], sensitiveArguments: ['"password"'] },
    ]);
    expect(method("on_order").entrypoints).toEqual([
      {
        kind: "event",
        source: '"orders"',
        eventType: '"order_created"',
        handlerType: "HandlerType.SINGLETON",
        reliableDelivery: undefined,
        requeueOnError: "true",
        expectedExceptions: [],
      },
    ]);
    expect(method("tick").entrypoints).toEqual([
      { kind: "timer", interval: "30", eager: undefined, expectedExceptions: [] },
    ]);
    expect(method("item").entrypoints).toEqual([
      { kind: "http", method: '"GET"', url: '"/items/<int:item_id>"', expectedExceptions: [] },
    ]);
  });

  it("reads a decorator followed by a comment on its line, as Nameko's docs write them", () => {
    const model = read(
      [
        "from nameko.rpc import rpc",
        "",
        "class Service:",
        '    name = "service"',
        "",
        "    @rpc  # `method` is exposed over RPC",
        "    def method(self):",
        "        pass",
        "",
      ].join("\n"),
    );
    expect(model.services[0]?.methods[0]?.entrypoints).toEqual([
      { kind: "rpc", expectedExceptions: [], sensitiveArguments: [] },
    ]);
    expect(model.issues).toEqual([]);
  });

  it("maps Nameko's WebSocket rpc and hub to @wsRpc and @WebSocketHub", () => {
    const text = [
      "from nameko.web.websocket import rpc, WebSocketHubProvider",
      "",
      "class WebsocketRpc:",
      '    name = "websocket_rpc_service"',
      "    websocket_hub = WebSocketHubProvider()",
      "",
      "    @rpc",
      "    def echo(self, socket_id, value):",
      "        return value",
      "",
    ].join("\n");
    const model = read(text);
    expect(model.issues).toEqual([]);
    expect(model.services[0]?.methods[0]?.entrypoints).toEqual([{ kind: "wsRpc", expectedExceptions: [] }]);
    const ts = emitService(model, "cliffracer port svc.py");
    expect(ts).toContain("@WebSocketHub() websocket_hub!: WebSocketHub;");
    expect(ts).toContain("@wsRpc()\n  echo(socket_id: unknown, value: unknown): unknown {");
  });

  it("declares the module's exception classes under their Python exc_path", () => {
    expect(model.errors).toEqual([
      { name: "Missing", base: "Exception", excPath: "svc.Missing", registered: false, line: 52 },
    ]);
  });

  it("reports what it could not map, with the line", () => {
    expect(model.issues.map((i) => `${i.line} ${i.severity}`)).toEqual([
      "10 warning",
      "10 warning",
      "24 unmapped",
      "31 unmapped",
      "31 unmapped",
      "31 unmapped",
      "46 unmapped",
    ]);
    const text = model.issues.map((i) => i.message).join("\n");
    expect(text).toContain("`Cache` comes from `helpers`, which is not read");
    expect(text).toContain("`audited` comes from `helpers`, which is not read");
    expect(text).toContain("Svc.cache: custom dependency provider `Cache`");
    expect(text).toContain("when(): default of `at` is not a literal (`datetime.datetime.now()`)");
    expect(text).toContain("when(): `*args` becomes a rest parameter");
    expect(text).toContain("when(): `**kwargs` becomes a trailing keyword object");
    expect(text).toContain("wrapped(): decorator `@audited` (a custom entrypoint or wrapper) is not mapped");
  });

  it("still writes the scaffold, with the report at its head", () => {
    const text = emitService(model, "cliffracer port svc.py");
    expect(text).toContain("//   svc.py:24: unmapped: Svc.cache: custom dependency provider `Cache`");
    expect(text).toContain(
      '@rpc({ expectedExceptions: [KeyError, Missing], sensitiveArguments: ["password"], signature: { keywordOnly: ["ttl"] } })',
    );
    expect(text).toContain("login(user: unknown, password: unknown, remember = false, ttl = 3600): unknown {");
    expect(text).toContain(
      "when(at: unknown = undefined, { ...kwargs }: Record<string, unknown>, ...args: unknown[]): unknown {",
    );
    expect(text).toContain("wrapped(x: number | null = null): string[] {");
    expect(text).toContain('registerError("svc.Missing", Missing, { deserialize: false });');
  });
});

describe("readModule on input it cannot port", () => {
  it("a file that does not parse: PythonSyntaxError with the line", () => {
    const text =
      "from nameko.rpc import rpc\n\nclass Svc:\n    name = 'svc'\n\n    @rpc\n    def f(self, a:\n        pass\n";
    expect(() => read(text)).toThrow(PythonSyntaxError);
    expect(() => read(text)).toThrow(/^svc\.py:7:\d+: invalid Python syntax/);
  });

  it("a class that is not a Nameko service: NotANamekoService with its line", () => {
    const text = "class Helper:\n    pass\n\n\nclass Plain:\n    def f(self):\n        pass\n";
    expect(() => read(text, "Plain")).toThrow(NotANamekoService);
    expect(() => read(text, "Plain")).toThrow("svc.py:5: class Plain is not a Nameko service");
    expect(() => read(text)).toThrow(ServiceNotFound);
    expect(() => read(text, "Nope")).toThrow("svc.py: no class Nope at the top level of the module");
  });

  it("positional-only parameters are reported, and typed callers pass them by position only", () => {
    const model = read(
      "from nameko.rpc import rpc\n\nclass S:\n    name = 's'\n\n    @rpc\n    def f(self, a, /, b):\n        pass\n",
    );
    expect(model.issues).toEqual([
      {
        line: 7,
        severity: "unmapped",
        message: "f(): positional-only parameters (`/`) are bound by name too in Cliffracer",
      },
    ]);
    expect(emitInterface(model, "types")).toContain(
      "f(...args: [a: unknown, kw: KwArgs<{ b: unknown }>] | [a: unknown, b: unknown]): unknown;",
    );
  });

  it("parameter names JavaScript reserves keep their Python names on the wire", () => {
    const model = read(
      "from nameko.rpc import rpc\n\nclass S:\n    name = 's'\n\n    @rpc\n    def get(self, key, default=None):\n        pass\n",
    );
    expect(emitService(model, "port")).toContain(
      '@rpc({ signature: { params: [{ name: "key", hasDefault: false, keywordOnly: false }, { name: "default", hasDefault: true, keywordOnly: false }] } })',
    );
  });
});
