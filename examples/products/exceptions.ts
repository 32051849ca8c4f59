// The errors of the products service. Registered under the Python module path, so a Nameko caller
// sees exc_path `products.exceptions.NotFound`, and a TypeScript caller gets this class back.
import { Exception, namekoError } from "cliffracer";

/** No product with that id. */
@namekoError("products.exceptions.NotFound")
export class NotFound extends Exception {}
