import type { ServiceClass } from "./metadata";

/**
 * A decorator of one member of a service class: a method decorator (`rpc()`, `eventHandler()`,
 * `timer()`, `http()`) or a property decorator (`RpcProxy()`, `Context()`, `EventDispatcher()`).
 */
export type MemberDecorator = MethodDecorator | PropertyDecorator;

/**
 * Applies decorators to the members of a service class without decorator syntax, for plain
 * JavaScript (docs/getting-started.md, Plain JavaScript):
 *
 * ```js
 * decorate(GreetingService, { users: RpcProxy("user_service"), hello: rpc() });
 * ```
 *
 * does what `@RpcProxy("user_service") users` and `@rpc() hello()` do in TypeScript. A member
 * that is a method of the class gets its property descriptor, any other name is a field. Several
 * decorators of one member are listed as they would be written, top to bottom, and applied bottom
 * up, as TypeScript applies them. Returns the class.
 */
export function decorate<T extends object>(
  cls: ServiceClass<T>,
  members: { readonly [K in keyof T & string]?: MemberDecorator | readonly MemberDecorator[] },
): ServiceClass<T> {
  const prototype = cls.prototype as object;
  for (const [key, spec] of Object.entries(members) as [string, MemberDecorator | readonly MemberDecorator[]][]) {
    const decorators: readonly MemberDecorator[] = Array.isArray(spec) ? spec : [spec];
    // The same steps as the `__decorate` helper TypeScript emits for a decorated member.
    let descriptor = Object.getOwnPropertyDescriptor(prototype, key);
    for (const decorator of [...decorators].reverse()) {
      const returned = (decorator as (target: object, key: string, d?: PropertyDescriptor) => unknown)(
        prototype,
        key,
        descriptor,
      );
      if (descriptor && returned) descriptor = returned as PropertyDescriptor;
    }
    if (descriptor) Object.defineProperty(prototype, key, descriptor);
  }
  return cls;
}
