// Context data from HTTP request headers, Nameko's `WebServer.context_data_from_headers`
// (README.md, Context data from request headers).
import { CALL_ID_STACK_KEY, type ContextData } from "../../compat";
import type { HttpRequest } from "./http-messages";

/**
 * Where an @http worker's context data comes from: a mapping of request header names (any case) to
 * context data keys, e.g. `{ "X-Request-Id": "request_id", "Accept-Language": "language" }`, or a
 * function of the request (what a Nameko service overrides `context_data_from_headers` for).
 */
export type ContextDataFromHeaders = Readonly<Record<string, string>> | ((request: HttpRequest) => ContextData);

/**
 * The reader of one option, checked once: a header name or key that cannot work throws TypeError
 * here, when the class is defined.
 */
export function contextDataReader(option: ContextDataFromHeaders): (request: HttpRequest) => ContextData {
  if (typeof option === "function") return option;
  const pairs: Array<readonly [header: string, key: string]> = [];
  for (const [header, key] of Object.entries(option)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header))
      throw new TypeError(`not an HTTP header name: ${JSON.stringify(header)}`);
    if (typeof key !== "string" || key === "")
      throw new TypeError(`header ${header}: the context key must be a non-empty string`);
    // The stack is the call chain's, never a client's to set (docs/nameko-wire.md, Call id stack).
    if (key === CALL_ID_STACK_KEY)
      throw new TypeError(`header ${header}: ${CALL_ID_STACK_KEY} cannot come from a header`);
    pairs.push([header.toLowerCase(), key]);
  }
  return (request) => {
    const data: ContextData = {};
    for (const [header, key] of pairs) {
      const value = request.headers[header];
      // Node joins repeated headers with ", " except set-cookie, which stays a list.
      if (value !== undefined) data[key] = Array.isArray(value) ? value.join(", ") : value;
    }
    return data;
  };
}
