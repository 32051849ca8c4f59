// Port of nameko-examples' orders service: orders in PostgreSQL, and `order_created` announced once
// an order is stored. Run (after applying migrations/ to the database):
//   cliffracer run examples/orders/service.ts --config examples/orders/config.yaml
import { EventDispatcher, KeyError, rpc, type Dispatch } from "cliffracer";
import { DatabaseSession, type SqlSession } from "cliffracer/sql";
import { NotFound } from "./exceptions";
import { deleteOrder, findOrder, insertOrder, updateOrderDetail, type NewOrderDetail, type Order } from "./models";

/** What `update_order` takes: the order as `get_order` returned it, prices and quantities changed. */
export interface OrderUpdate {
  id: number;
  order_details: Array<{ id: number; price: string | number; quantity: number }>;
}

export class OrdersService {
  name = "orders";

  @DatabaseSession("Base") db!: SqlSession;
  @EventDispatcher() event_dispatcher!: Dispatch;

  @rpc()
  async get_order(order_id: number): Promise<Order> {
    return this.mustFind(order_id);
  }

  @rpc()
  async create_order(order_details: NewOrderDetail[]): Promise<Order> {
    const order = await insertOrder(this.db, order_details);
    // Committed before the event goes out, so the event only ever announces a stored order.
    await this.db.commit();
    await this.event_dispatcher("order_created", { order });
    return order;
  }

  @rpc()
  async update_order(order: OrderUpdate): Promise<Order> {
    const changes = new Map(order.order_details.map((detail) => [detail.id, detail]));
    const stored = await this.mustFind(order.id);
    for (const detail of stored.order_details) {
      const change = changes.get(detail.id);
      // The Python service's dict lookup: a line of the order missing from the request is a KeyError.
      if (!change) throw new KeyError(detail.id);
      await updateOrderDetail(this.db, { id: detail.id, price: change.price, quantity: change.quantity });
    }
    await this.db.commit();
    return this.mustFind(order.id);
  }

  @rpc()
  async delete_order(order_id: number): Promise<void> {
    if (!(await deleteOrder(this.db, order_id))) throw notFound(order_id);
    await this.db.commit();
  }

  private async mustFind(order_id: number): Promise<Order> {
    const order = await findOrder(this.db, order_id);
    if (!order) throw notFound(order_id);
    return order;
  }
}

function notFound(order_id: number): NotFound {
  return new NotFound(`Order with id ${order_id} not found`);
}
