// The extension examples of docs/extensions.md run as written (examples/extensions), over a real
// nats-server: a custom entrypoint on plain NATS messages, and a dependency provider that publishes
// audit records with the worker's context from a shared extension's managed task.
import { readFileSync } from "node:fs";
import path from "node:path";
import { headers as natsHeaders, type Msg } from "@nats-io/transport-node";
import { InventoryService } from "../../../examples/extensions/inventory-service";
import { NatsFixture } from "../../helpers/brokers";
import { deferred } from "../../helpers/waiters";

describe("the extension examples", () => {
  const fx = new NatsFixture();
  beforeAll(() => fx.start(InventoryService));
  afterAll(() => fx.cleanup());

  it("answers a message through @onMessage and audits it with the sender's context", async () => {
    const nc = await fx.connection();
    const audited = deferred<Msg>();
    nc.subscribe(`${fx.prefix}.audit.inventory`, { callback: (_err, msg) => audited.resolve(msg) });
    await nc.flush();

    const h = natsHeaders();
    h.set("nameko.user_id", "u-7");
    h.set("nameko.call_id_stack", JSON.stringify(["caller.send.1"]));
    const reply = await nc.request(`${fx.prefix}.inventory.count`, JSON.stringify({ sku: "A-1", quantity: 3 }), {
      headers: h,
      timeout: 5_000,
    });
    expect(reply.json()).toEqual({ result: { sku: "A-1", quantity: 3, countedBy: "u-7" } });

    const record = await audited.promise;
    expect(record.json()).toEqual({ action: "stock_counted", detail: { sku: "A-1", quantity: 3 }, method: "count" });
    expect(record.headers?.get("nameko.user_id")).toBe("u-7");
    const stack = JSON.parse(record.headers!.get("nameko.call_id_stack")) as string[];
    expect(stack[0]).toBe("caller.send.1");
    expect(stack[1]).toMatch(/^inventory\.count\.[0-9a-f-]{36}$/);
  });

  it("answers a failed worker with its error and audits nothing for it", async () => {
    const nc = await fx.connection();
    const skus: string[] = [];
    const goodOne = deferred();
    nc.subscribe(`${fx.prefix}.audit.inventory`, {
      callback: (_err, msg) => {
        skus.push((msg.json() as { detail: { sku: string } }).detail.sku);
        if (skus.includes("C-3")) goodOne.resolve();
      },
    });
    await nc.flush();
    const reply = await nc.request(`${fx.prefix}.inventory.count`, JSON.stringify({ sku: "B-2", quantity: -1 }), {
      timeout: 5_000,
    });
    expect(reply.json()).toEqual({ error: "Error: bad quantity for B-2" });
    // Records are published in the order workers ended, on one connection: had the failed reading been
    // audited, its record would arrive before the good one that follows it.
    await nc.request(`${fx.prefix}.inventory.count`, JSON.stringify({ sku: "C-3", quantity: 1 }), { timeout: 5_000 });
    await goodOne.promise;
    expect(skus).toEqual(["C-3"]);
  });
});

describe("docs/extensions.md", () => {
  const root = path.join(__dirname, "../../..");
  const guide = readFileSync(path.join(root, "docs/extensions.md"), "utf8");

  /** The TypeScript blocks of one section of the guide. */
  function blocksOf(section: string): string[] {
    const start = guide.indexOf(`\n## ${section}\n`);
    const end = guide.indexOf("\n## ", start + 1);
    return [...guide.slice(start, end).matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  }

  it.each([
    ["Writing a dependency provider", "examples/extensions/audit-log.ts"],
    ["Writing an entrypoint", "examples/extensions/on-message.ts"],
  ])("shows in %s only code that %s runs", (section, file) => {
    const example = readFileSync(path.join(root, file), "utf8");
    const blocks = blocksOf(section);
    expect(blocks.length).toBeGreaterThan(0);
    const missing = blocks
      .flatMap((block) => block.split("\n").map((line) => line.trim()))
      .filter((line) => line !== "" && !example.includes(line));
    expect(missing).toEqual([]);
  });
});
