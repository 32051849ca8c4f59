/**
 * The route table of a service being cut over (docs/routing.md, The route table): for each method,
 * the percentage of its calls the bridge sends to the port; the rest go to the Nameko original.
 * Pure data and pure functions: where the table is kept (a watched KV bucket) and who changes it
 * (`PUT /routes/<service>`, `cliffracer route`) live elsewhere.
 */
import { ConfigurationError } from "../../compat";

/** The key of the weight that applies to every method without one of its own. */
export const DEFAULT_ROUTE_KEY = "*";

/** Where one call runs. */
export type RouteSide = "port" | "original";

/** One service's weights: `*` and per-method percentages (0 to 100) of calls sent to the port. */
export interface ServiceRoutes {
  /** Share of calls to methods without their own weight; 0 sends them all to the original. */
  readonly defaultWeight: number;
  /** Per-method weights, overriding the default. */
  readonly methods: Readonly<Record<string, number>>;
}

/** A route table that was refused: it does not add up or names a method the service does not have. */
export class InvalidRouteTable extends ConfigurationError {}

/** Weights are percentages with at most two decimals, so 0.01% is the smallest share. */
const WEIGHT_SCALE = 100;

function weightOf(value: unknown, where: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 100)
    throw new InvalidRouteTable(`${where}: a weight is a number from 0 to 100, got ${JSON.stringify(value)}`);
  if (Math.round(value * WEIGHT_SCALE) !== value * WEIGHT_SCALE)
    throw new InvalidRouteTable(`${where}: a weight has at most two decimals, got ${value}`);
  return value;
}

/**
 * Reads a route table from its JSON form, `{"*": 0, "get_user": 100}`, refusing anything that does
 * not add up: a non-object, a weight outside 0..100, or a method not in `knownMethods` (when given).
 * A table without `*` keeps every other method on the original (default weight 0).
 */
export function parseServiceRoutes(service: string, value: unknown, knownMethods?: ReadonlySet<string>): ServiceRoutes {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new InvalidRouteTable(
      `routes of ${service}: expected an object of method -> weight, got ${JSON.stringify(value)}`,
    );
  let defaultWeight = 0;
  const methods: Record<string, number> = {};
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (key === DEFAULT_ROUTE_KEY) {
      defaultWeight = weightOf(raw, `routes of ${service}, "*"`);
      continue;
    }
    if (knownMethods && !knownMethods.has(key))
      throw new InvalidRouteTable(
        `routes of ${service}: unknown method ${JSON.stringify(key)} (known: ${[...knownMethods].sort().join(", ") || "none"})`,
      );
    methods[key] = weightOf(raw, `routes of ${service}, ${key}`);
  }
  return { defaultWeight, methods };
}

/** The JSON form of a table, as `PUT /routes/<service>` takes it and the KV bucket keeps it. */
export function serviceRoutesToJson(routes: ServiceRoutes): Record<string, number> {
  return { [DEFAULT_ROUTE_KEY]: routes.defaultWeight, ...routes.methods };
}

/** Percentage of `method`'s calls that go to the port. */
export function weightFor(routes: ServiceRoutes, method: string): number {
  return routes.methods[method] ?? routes.defaultWeight;
}

/**
 * A point in [0, 100) fixed by the request's identity (FNV-1a, 32 bits), so a request redelivered to
 * this or another bridge lands on the same side (docs/routing.md, Choosing a side exactly once).
 */
export function routePoint(identity: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < identity.length; i++) {
    hash ^= identity.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return ((hash >>> 0) % (100 * WEIGHT_SCALE)) / WEIGHT_SCALE;
}

/** The side a call with this identity runs on under `routes`. */
export function chooseSide(routes: ServiceRoutes, method: string, identity: string): RouteSide {
  const weight = weightFor(routes, method);
  if (weight <= 0) return "original";
  if (weight >= 100) return "port";
  return routePoint(identity) < weight ? "port" : "original";
}
