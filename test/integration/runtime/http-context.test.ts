// @http's contextDataFromHeaders (Nameko's context_data_from_headers; README.md, Context data from
// request headers) over real HTTP and a real nats-server: named headers reach the worker's context
// data and the context of the calls it makes.
import {
  Context,
  http,
  HttpResponse,
  rpc,
  RpcProxy,
  ServiceContainer,
  ServiceDefinitionError,
  type HttpRequest,
  type ServiceProxy,
  type WorkerContext,
} from "cliffracer";
import { HttpEntrypoint } from "../../../src/entrypoints/http";
import { NatsFixture } from "../../helpers/brokers";

class Downstream {
  name = "ctx_downstream";
  @Context() ctx!: WorkerContext;

  @rpc()
  seen() {
    return { data: this.ctx.data, stack: this.ctx.callIdStack };
  }
}

class Gateway {
  name = "ctx_gateway";
  @Context() ctx!: WorkerContext;
  @RpcProxy("ctx_downstream") downstream!: ServiceProxy;

  @http("GET", "/mapped", {
    contextDataFromHeaders: { "X-Request-Id": "request_id", "accept-language": "language", "X-Absent": "absent" },
  })
  async mapped() {
    return HttpResponse.json({ own: this.ctx.data, downstream: await this.downstream.seen() });
  }

  @http("GET", "/computed", {
    contextDataFromHeaders: (request: HttpRequest) => ({ user_id: Number(request.headers["x-user"]) }),
  })
  computed() {
    return HttpResponse.json(this.ctx.data);
  }

  @http("GET", "/plain")
  plain() {
    return HttpResponse.json(this.ctx.data);
  }
}

function baseUrl(container: ServiceContainer): string {
  const entrypoint = container.entrypoints.find((e): e is HttpEntrypoint => e instanceof HttpEntrypoint);
  if (!entrypoint?.baseUrl) throw new Error(`${container.serviceName} has no started @http entrypoint`);
  return entrypoint.baseUrl;
}

describe("context data from HTTP headers", () => {
  const fx = new NatsFixture({ webServerAddress: "127.0.0.1:0" });
  let url: string;

  beforeAll(async () => {
    await fx.start(Downstream);
    url = baseUrl(await fx.start(Gateway));
  });
  afterAll(() => fx.cleanup());

  it("puts the named headers in the worker's context data and the context of its calls", async () => {
    const res = await fetch(`${url}/mapped`, {
      headers: { "X-Request-Id": "req-42", "Accept-Language": "en-GB", "X-Other": "not named" },
    });
    const body = (await res.json()) as {
      own: Record<string, unknown>;
      downstream: { data: Record<string, unknown>; stack: string[] };
    };
    expect(body.own).toEqual({ request_id: "req-42", language: "en-GB" });
    expect(body.downstream.data).toEqual({ request_id: "req-42", language: "en-GB" });
    expect(body.downstream.stack[0]).toMatch(/^ctx_gateway\.mapped\./);
  });

  it("takes the context data a function of the request returns", async () => {
    const res = await fetch(`${url}/computed`, { headers: { "X-User": "7" } });
    expect(await res.json()).toEqual({ user_id: 7 });
  });

  it("takes no context data from headers without the option, as Nameko", async () => {
    const res = await fetch(`${url}/plain`, { headers: { "X-Request-Id": "req-1", "nameko.user_id": "9" } });
    expect(await res.json()).toEqual({});
  });

  it("refuses a mapping onto the call id stack, or a name that is no header, when the class is defined", () => {
    const define = (mapping: Record<string, string>) => () => {
      class Bad {
        name = "bad";
        @http("GET", "/x", { contextDataFromHeaders: mapping })
        m() {
          return "";
        }
      }
      return Bad;
    };
    expect(define({ "X-Stack": "call_id_stack" })).toThrow(ServiceDefinitionError);
    expect(define({ "X Space": "key" })).toThrow("not an HTTP header name");
  });
});
