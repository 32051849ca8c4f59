// The ops server's request handlers (src/observability/ops-server.ts): what a layer above adds to
// the ops port (the bridge's /routes) gets its path parameters and a JSON body whatever the content
// type, and every refusal answers {error: {type, message}}.
import { createRegistry, startOpsServer, type OpsRequest, type OpsServer } from "../../../src/internal";

describe("ops server handlers", () => {
  let server: OpsServer;
  const seen: OpsRequest[] = [];

  beforeAll(async () => {
    server = await startOpsServer({
      port: 0,
      host: "127.0.0.1",
      registry: createRegistry(),
      ready: () => ({ ok: true }),
      bodyLimit: 1024,
      handlers: [
        {
          method: "PUT",
          path: "/things/:name",
          handle: (request) => {
            seen.push(request);
            return { status: 201, body: { got: request.body ?? null } };
          },
        },
        {
          method: "POST",
          path: "/things/:name/fail",
          handle: () => {
            throw new TypeError("broken handler");
          },
        },
      ],
    });
  });
  afterAll(() => server.close());

  const put = (body: string, contentType?: string): Promise<Response> =>
    fetch(`${server.url}/things/a%20b`, {
      method: "PUT",
      body,
      headers: contentType ? { "content-type": contentType } : {},
    });

  it("passes path parameters and the JSON body, whatever the content type", async () => {
    const json = await put('{"x": 1}', "application/json");
    expect(json.status).toBe(201);
    expect(await json.json()).toEqual({ got: { x: 1 } });
    // curl -d sends application/x-www-form-urlencoded.
    expect(await (await put("[2]", "application/x-www-form-urlencoded")).json()).toEqual({ got: [2] });
    expect(await (await put("")).json()).toEqual({ got: null });
    expect(seen.map((r) => r.params.name)).toEqual(["a b", "a b", "a b"]);
    expect(seen[2]!.body).toBeUndefined();
  });

  it("answers bad JSON with 400, a body over the limit with 413, and a throwing handler with 500", async () => {
    const bad = await put("{nope", "application/json");
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { type: "InvalidJson", message: expect.stringContaining("not JSON") } });
    const big = await put(JSON.stringify("x".repeat(2000)), "application/json");
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { type: "BodyTooLarge" } });
    const failed = await fetch(`${server.url}/things/a/fail`, { method: "POST" });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({ error: { type: "TypeError", message: "broken handler" } });
  });

  it("keeps serving the probes beside them", async () => {
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });
});
