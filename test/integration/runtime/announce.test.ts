// Services announce themselves with the NATS services protocol (docs/nats-contract.md, Service discovery).
import { rpc } from "cliffracer";
import { NatsFixture, uniqueName } from "../../helpers/brokers";

const serviceName = uniqueName("announced");

class Announced {
  name = serviceName;
  static version = "1.2.3";

  @rpc()
  ping() {
    return "pong";
  }

  @rpc()
  echo(x: unknown) {
    return x;
  }
}

interface Info {
  name: string;
  version: string;
  endpoints: Array<{ name: string; subject: string; queue_group: string; metadata: Record<string, string> }>;
}

describe("service announcement", () => {
  const fx = new NatsFixture();
  afterAll(() => fx.cleanup());

  it("answers $SRV.PING and $SRV.INFO with the service and its rpc endpoint, served once per call", async () => {
    const container = await fx.start(Announced);
    const nc = await fx.connection();
    const ping = (await nc.request(`$SRV.PING.${serviceName}`, "", { timeout: 5000 })).json<{
      name: string;
      id: string;
    }>();
    expect(ping.name).toBe(serviceName);
    expect(ping.id).toBe(container.announcer?.id);
    const info = (await nc.request(`$SRV.INFO.${serviceName}`, "", { timeout: 5000 })).json<Info>();
    expect(info.version).toBe("1.2.3");
    expect(info.endpoints).toEqual([
      {
        name: "rpc",
        subject: `${fx.prefix}.rpc.${serviceName}.*`,
        queue_group: `${fx.prefix}.rpc.${serviceName}`,
        metadata: { methods: "ping,echo" },
      },
    ]);
    // The announced endpoint is the intake itself: each call runs exactly once.
    let runs = 0;
    container.observeWorkers(() => runs++);
    const client = await fx.client();
    expect(await client.call(serviceName, "ping")).toBe("pong");
    expect(runs).toBe(1);
    const stats = (await nc.request(`$SRV.STATS.${serviceName}`, "", { timeout: 5000 })).json<{
      endpoints: Array<{ num_requests: number }>;
    }>();
    expect(stats.endpoints[0].num_requests).toBe(1);
  });

  it("stops answering once the container stopped", async () => {
    const container = await fx.start(Announced);
    const id = container.announcer?.id;
    await container.stop();
    const nc = await fx.connection();
    const err = await nc.request(`$SRV.PING.${serviceName}.${id}`, "", { timeout: 5000 }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no responders/);
  });
});
