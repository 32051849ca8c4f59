// decorate(): a service class written without decorator syntax is described exactly like its
// decorated twin.
import { Context, decorate, EventDispatcher, rpc, RpcProxy, timer, type ServiceProxy } from "cliffracer";
import { describeService } from "../../../src/core/metadata";
import { ServiceDefinitionError } from "../../../src/errors";

/** What a container would build from a class: entrypoint methods and dependency attributes, in order. */
function shape(cls: new () => object): { entrypoints: string[]; dependencies: string[] } {
  const description = describeService(cls);
  return {
    entrypoints: description.entrypoints.map((factory) => factory().methodName),
    dependencies: description.dependencies.map((factory) => factory().attrName),
  };
}

class Decorated {
  name = "orders";
  @RpcProxy("products") products!: ServiceProxy;
  @EventDispatcher() dispatch!: unknown;

  @rpc()
  create(product: string, quantity = 1) {
    return { product, quantity };
  }

  @timer({ interval: 60 })
  @rpc()
  tick() {
    return "tick";
  }
}

class Plain {
  name = "orders";
  products!: ServiceProxy;
  dispatch!: unknown;

  create(product: string, quantity = 1) {
    return { product, quantity };
  }

  tick() {
    return "tick";
  }
}
decorate(Plain, {
  products: RpcProxy("products"),
  dispatch: EventDispatcher(),
  create: rpc(),
  tick: [timer({ interval: 60 }), rpc()],
});

describe("decorate", () => {
  it("records the same entrypoints and dependencies as decorator syntax, in the same order", () => {
    expect(shape(Plain)).toEqual(shape(Decorated));
    expect(shape(Plain)).toEqual({ entrypoints: ["create", "tick", "tick"], dependencies: ["products", "dispatch"] });
  });

  it("applies a member's decorators bottom up and keeps a descriptor a decorator returns", () => {
    const order: string[] = [];
    const mark =
      (label: string): MethodDecorator =>
      (_target, _key, descriptor) => {
        order.push(label);
        const inner = descriptor.value as () => string;
        return { ...descriptor, value: () => `${label}(${inner()})` } as typeof descriptor;
      };
    class Svc {
      name = "svc";
      hello() {
        return "hi";
      }
    }
    decorate(Svc, { hello: [mark("outer"), mark("inner")] });
    expect(order).toEqual(["inner", "outer"]);
    expect(new Svc().hello()).toBe("outer(inner(hi))");
  });

  it("gives a field no descriptor, as TypeScript does for a decorated property", () => {
    const seen: unknown[] = [];
    class Svc {
      name = "svc";
      ctx: unknown;
    }
    decorate(Svc, {
      ctx: [Context(), (_target: object, _key: string | symbol, descriptor?: unknown) => void seen.push(descriptor)],
    });
    expect(seen).toEqual([undefined]);
    expect(shape(Svc).dependencies).toEqual(["ctx"]);
  });

  it("refuses @rpc on a name that is no method of the class with ServiceDefinitionError", () => {
    class Svc {
      name = "svc";
      hello() {
        return "hi";
      }
    }
    expect(() => decorate(Svc, { helo: rpc() } as never)).toThrow(
      new ServiceDefinitionError("@rpc() on helo: not a method"),
    );
  });
});
