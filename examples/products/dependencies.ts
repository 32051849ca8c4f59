// The products storage: a custom dependency provider built on cliffracer/redis's RedisProvider
// (docs/providers.md, Redis), injecting a StorageWrapper around the container's client instead of
// the client itself.
import { registerDependency, type WorkerContext } from "cliffracer";
import { RedisProvider, type RedisClient } from "cliffracer/redis";
import { NotFound } from "./exceptions";
import type { Product } from "./schemas";

/** The entry of `REDIS_URIS` the storage connects to. */
export const REDIS_URIS_ENTRY = "products";

/**
 * Product storage on Redis: one hash per product under `products:<id>`. As in the Python example,
 * id sequences and sorted listings are out of scope.
 */
export class StorageWrapper {
  static readonly NotFound = NotFound;

  constructor(readonly client: RedisClient) {}

  async get(productId: string | number): Promise<Product> {
    const product = await this.client.hgetall(formatKey(productId));
    // HGETALL answers an empty hash for a key that does not exist.
    if (Object.keys(product).length === 0) throw new NotFound(`Product ID ${productId} does not exist`);
    return fromHash(product);
  }

  /** Every product, in no particular order. KEYS scans the whole database: fine for an example. */
  async list(): Promise<Product[]> {
    const keys = await this.client.keys(formatKey("*"));
    const hashes = await Promise.all(keys.map((key) => this.client.hgetall(key)));
    return hashes.map(fromHash);
  }

  async create(product: Product): Promise<void> {
    await this.client.hset(formatKey(product.id), { ...product });
  }

  /** Take `amount` off the product's stock; resolves with the stock left. */
  decrementStock(productId: string | number, amount: number): Promise<number> {
    return this.client.hincrby(formatKey(productId), "in_stock", -amount);
  }
}

function formatKey(productId: string | number): string {
  return `products:${productId}`;
}

/** A stored hash as a product: Redis keeps strings, the numbers are parsed back. */
function fromHash(document: Record<string, string>): Product {
  return {
    id: String(document.id),
    title: String(document.title),
    passenger_capacity: Number.parseInt(String(document.passenger_capacity), 10),
    maximum_speed: Number.parseInt(String(document.maximum_speed), 10),
    in_stock: Number.parseInt(String(document.in_stock), 10),
  };
}

/** The Redis provider, giving each worker a StorageWrapper on the container's client. */
export class StorageProvider extends RedisProvider {
  override getDependency(worker: WorkerContext): StorageWrapper {
    return new StorageWrapper(this.clientFor(worker));
  }
}

/** Inject the products storage: `@Storage() storage!: StorageWrapper`, on `REDIS_URIS.products`. */
export function Storage(): PropertyDecorator {
  return (target, key) => registerDependency(target, () => new StorageProvider(String(key), REDIS_URIS_ENTRY));
}
