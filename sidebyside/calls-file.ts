/**
 * Calls files and events files: the calls to send to a service and the events to dispatch to it,
 * each a JSON list (docs/cassettes.md, Calls files). Read by the examples' recording script and by
 * sideBySide().
 */
import { decodeJson, describeError, type ContextData } from "../compat";

/** One call of a calls file. */
export interface CallSpec {
  method: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** Context data, sent as `nameko.*` headers. */
  context?: ContextData;
}

/** A calls file that is not a list of calls; the message names the item. */
export class InvalidCallsFile extends Error {
  override readonly name = "InvalidCallsFile";
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The calls of a calls file's text, checked item by item. */
export function parseCallsFile(text: string): CallSpec[] {
  let value: unknown;
  try {
    value = decodeJson(text);
  } catch (err) {
    throw new InvalidCallsFile(`a calls file is JSON: ${describeError(err)}`);
  }
  if (!Array.isArray(value)) throw new InvalidCallsFile("a calls file is a JSON list of calls");
  return value.map((item: unknown, i) => {
    const where = `call ${i + 1}`;
    if (!isObject(item) || typeof item.method !== "string" || item.method === "")
      throw new InvalidCallsFile(`${where}: an object with a "method" name`);
    if (item.args !== undefined && !Array.isArray(item.args)) throw new InvalidCallsFile(`${where}: "args" is a list`);
    for (const key of ["kwargs", "context"] as const)
      if (item[key] !== undefined && !isObject(item[key]))
        throw new InvalidCallsFile(`${where}: "${key}" is an object`);
    return item as unknown as CallSpec;
  });
}

/** One event of an events file: dispatched to the service's handlers as `source` would. */
export interface EventSpec {
  source: string;
  type: string;
  payload: unknown;
  /** Context data, sent as `nameko.*` headers. */
  context?: ContextData;
}

/** The events of an events file's text, checked item by item. */
export function parseEventsFile(text: string): EventSpec[] {
  let value: unknown;
  try {
    value = decodeJson(text);
  } catch (err) {
    throw new InvalidCallsFile(`an events file is JSON: ${describeError(err)}`);
  }
  if (!Array.isArray(value)) throw new InvalidCallsFile("an events file is a JSON list of events");
  return value.map((item: unknown, i) => {
    const where = `event ${i + 1}`;
    if (!isObject(item) || typeof item.source !== "string" || item.source === "")
      throw new InvalidCallsFile(`${where}: an object with a "source" service name`);
    if (typeof item.type !== "string" || item.type === "") throw new InvalidCallsFile(`${where}: a "type" name`);
    if (!("payload" in item)) throw new InvalidCallsFile(`${where}: a "payload"`);
    if (item.context !== undefined && !isObject(item.context))
      throw new InvalidCallsFile(`${where}: "context" is an object`);
    return item as unknown as EventSpec;
  });
}
