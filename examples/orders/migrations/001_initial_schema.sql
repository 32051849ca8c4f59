-- The orders schema: the Python example's first alembic revision (dd33cb03d01f), as plain SQL.
-- Timestamps are UTC without a time zone, as SQLAlchemy's DateTime filled with datetime.utcnow.
CREATE TABLE orders (
  id serial PRIMARY KEY,
  created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
  updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);

CREATE TABLE order_details (
  id serial PRIMARY KEY,
  order_id integer NOT NULL CONSTRAINT fk_order_details_orders REFERENCES orders (id),
  product_id varchar NOT NULL,
  price DECIMAL(18, 2) NOT NULL,
  quantity integer NOT NULL,
  created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc'),
  updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
