// The orders and their details in PostgreSQL (migrations/001_initial_schema.sql), read and written
// through a worker's SqlSession (docs/providers.md, SQL sessions). Orders come back as the Python
// service's OrderSchema dumps them: the price a string with its two decimals (node-postgres reads
// DECIMAL as a string, as marshmallow's `Decimal(as_string=True)` writes it).

import type { SqlSession } from "cliffracer/sql";

/** One line of an order. */
export interface OrderDetail {
  id: number;
  product_id: string;
  /** DECIMAL(18, 2) as a string: `"99.90"`. */
  price: string;
  quantity: number;
}

/** An order with its lines, as the service returns it and dispatches it. */
export interface Order {
  id: number;
  order_details: OrderDetail[];
}

/** A line of a new order; the price as a string (`"99.99"`) or a number. */
export interface NewOrderDetail {
  product_id: string;
  price: string | number;
  quantity: number;
}

type OrderDetailRow = { id: number; product_id: string; price: string; quantity: number };

const DETAIL_COLUMNS = "id, product_id, price, quantity";

/** Insert an order and its lines; resolves with the order as stored. */
export async function insertOrder(db: SqlSession, details: readonly NewOrderDetail[]): Promise<Order> {
  const { rows } = await db.query<{ id: number }>("INSERT INTO orders DEFAULT VALUES RETURNING id");
  const id = rows[0]!.id;
  const order_details: OrderDetail[] = [];
  for (const detail of details) {
    const inserted = await db.query<OrderDetailRow>(
      `INSERT INTO order_details (order_id, product_id, price, quantity) VALUES ($1, $2, $3, $4)
       RETURNING ${DETAIL_COLUMNS}`,
      [id, detail.product_id, detail.price, detail.quantity],
    );
    order_details.push(inserted.rows[0]!);
  }
  return { id, order_details };
}

/** The order `id` with its lines (by line id), or undefined. */
export async function findOrder(db: SqlSession, id: number): Promise<Order | undefined> {
  const found = await db.query<{ id: number }>("SELECT id FROM orders WHERE id = $1", [id]);
  if (found.rows.length === 0) return undefined;
  const { rows } = await db.query<OrderDetailRow>(
    `SELECT ${DETAIL_COLUMNS} FROM order_details WHERE order_id = $1 ORDER BY id`,
    [id],
  );
  return { id, order_details: rows };
}

/** Set the price and quantity of one line, and its updated_at. */
export async function updateOrderDetail(
  db: SqlSession,
  detail: Pick<OrderDetail, "id" | "quantity"> & { price: string | number },
): Promise<void> {
  await db.query(
    "UPDATE order_details SET price = $2, quantity = $3, updated_at = now() AT TIME ZONE 'utc' WHERE id = $1",
    [detail.id, detail.price, detail.quantity],
  );
}

/** Delete the order `id` and its lines; resolves false when there was no such order. */
export async function deleteOrder(db: SqlSession, id: number): Promise<boolean> {
  await db.query("DELETE FROM order_details WHERE order_id = $1", [id]);
  const { rowCount } = await db.query("DELETE FROM orders WHERE id = $1", [id]);
  return rowCount === 1;
}
