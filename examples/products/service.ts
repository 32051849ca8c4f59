// Port of nameko-examples' products service: products kept in Redis, and their stock taken down
// when the orders service announces an order. Run:
//   cliffracer run examples/products/service.ts --config examples/products/config.yaml
import { eventHandler, rpc } from "cliffracer";
import { Storage, type StorageWrapper } from "./dependencies";
import { Product } from "./schemas";

/** The `order_created` event of the orders service, as far as this service reads it. */
export interface OrderCreated {
  order: { order_details: Array<{ product_id: string; quantity: number }> };
}

export class ProductsService {
  name = "products";

  @Storage() storage!: StorageWrapper;

  @rpc()
  get(product_id: string): Promise<Product> {
    return this.storage.get(product_id);
  }

  @rpc()
  list(): Promise<Product[]> {
    return this.storage.list();
  }

  /** Store a product; `product` is validated before this runs (ValidationFailed otherwise). */
  @rpc()
  async create(product: Product): Promise<void> {
    await this.storage.create(product);
  }

  @eventHandler("orders", "order_created")
  async handle_order_created(payload: OrderCreated): Promise<void> {
    for (const product of payload.order.order_details)
      await this.storage.decrementStock(product.product_id, product.quantity);
  }
}
