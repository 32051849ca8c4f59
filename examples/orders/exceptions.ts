// The errors of the orders service. Registered under the Python module path, so a Nameko caller
// sees exc_path `orders.exceptions.NotFound`, and a TypeScript caller gets this class back.
import { Exception, namekoError } from "cliffracer";

/** No order with that id. */
@namekoError("orders.exceptions.NotFound")
export class NotFound extends Exception {}
