// Turning errors into HTTP responses (Nameko's HttpRequestHandler.response_from_exception), over
// real HTTP: a service's own mapping through httpWith() or a per-method option, and the default
// `Error: <Type>: <message>` response wherever the mapping declines or fails.
import { http, httpWith, HttpResponse, ValueError, type HttpRequest, type ServiceContainer } from "cliffracer";
import { HttpEntrypoint } from "../../../src/entrypoints/http";
import { NatsFixture } from "../../helpers/brokers";

class NotFound extends Error {
  override name = "NotFound";
}

/** Every error the mapping was asked about, as `path: name`. */
const asked: string[] = [];

/** The JSON error body a port of a Nameko HTTP service usually produces. */
function jsonErrors(error: unknown, request: HttpRequest): HttpResponse | undefined {
  asked.push(`${request.path}: ${(error as Error).name}`);
  if (error instanceof NotFound)
    return HttpResponse.json(
      { error: "NOT_FOUND", message: error.message, path: request.path },
      { status: 404, headers: { "x-error": "1" } },
    );
  return undefined;
}

const api = httpWith({ responseFromException: jsonErrors });

class Shop {
  name = "http_error_shop";

  @api("GET", "/products/<int:id>")
  product(request: HttpRequest, id: number) {
    throw new NotFound(`no product ${id}`);
  }

  @api("GET", "/declined")
  declined() {
    throw new ValueError("not mapped");
  }

  @api("GET", "/invalid")
  invalid() {
    return { not: "a response" };
  }

  @api("GET", "/teapot", { responseFromException: () => [418, { "content-type": "text/plain" }, "short and stout"] })
  teapot() {
    throw new Error("kettle");
  }

  @http("GET", "/broken-mapper", {
    responseFromException: () => {
      throw new Error("mapper bug");
    },
  })
  brokenMapper() {
    throw new ValueError("original");
  }

  @http("GET", "/default")
  plain() {
    throw new ValueError("as before");
  }
}

describe("mapping errors to HTTP responses", () => {
  const fx = new NatsFixture({ webServerAddress: "127.0.0.1:0" });
  let url = "";
  let container: ServiceContainer;

  beforeAll(async () => {
    container = await fx.start(Shop);
    url = (container.entrypoints[0] as HttpEntrypoint).baseUrl!;
  });
  afterAll(() => fx.cleanup());

  it("answers with the service's response for an error it maps, status, body and headers", async () => {
    const res = await fetch(`${url}/products/7`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-error")).toBe("1");
    expect(await res.json()).toEqual({ error: "NOT_FOUND", message: "no product 7", path: "/products/7" });
  });

  it("falls back to the default response when the mapping returns undefined", async () => {
    const res = await fetch(`${url}/declined`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("Error: ValueError: not mapped\n");
  });

  it("passes a return value that is not a response through the mapping too, as Nameko does", async () => {
    const res = await fetch(`${url}/invalid`);
    expect(asked).toContain("/invalid: TypeError");
    expect(res.status).toBe(500);
    expect(await res.text()).toMatch(/^Error: TypeError: Payload must be a string/);
  });

  it("lets a method's own option override the decorator's default", async () => {
    const res = await fetch(`${url}/teapot`);
    expect(res.status).toBe(418);
    expect(await res.text()).toBe("short and stout");
  });

  it("sends the default response for the original error when the mapping itself throws", async () => {
    const res = await fetch(`${url}/broken-mapper`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("Error: ValueError: original\n");
  });

  it("keeps the default behaviour without a mapping", async () => {
    const res = await fetch(`${url}/default`);
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe("Error: ValueError: as before\n");
  });
});
