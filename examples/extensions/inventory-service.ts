// A service built on the two example extensions: stock levels reported over plain NATS messages,
// each change audited.
import { Context, type WorkerContext } from "cliffracer";
import { AuditLog, type Audit } from "./audit-log";
import { onMessage } from "./on-message";

export class InventoryService {
  name = "inventory";

  @AuditLog() audit!: Audit;
  @Context() ctx!: WorkerContext;

  @onMessage("inventory.count")
  count(reading: { sku: string; quantity: number }) {
    if (!(reading.quantity >= 0)) throw new Error(`bad quantity for ${reading.sku}`);
    this.audit.record("stock_counted", { sku: reading.sku, quantity: reading.quantity });
    return { sku: reading.sku, quantity: reading.quantity, countedBy: this.ctx.data.user_id ?? null };
  }
}
