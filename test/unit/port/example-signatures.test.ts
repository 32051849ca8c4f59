// The scaffolds of the repository's Nameko examples against their hand-written ports, as the runtime
// records them (describeService and each entrypoint): the same RPC signatures (parameter names, order,
// which have defaults, and the default values), the same event handlers and timers, the same exc_paths.
// greeting and payments are scaffolded from their originals in examples/; products and orders, whose
// originals (nameko-examples) are not in the repository, from test/fixtures/port/{products,orders}.py.
import "reflect-metadata";
import { getMetadataStorage } from "class-validator";
import { describeService, serializeError, type ServiceClass } from "cliffracer";
import { RpcEntrypoint } from "../../../src/entrypoints/rpc";
import { EventHandler } from "../../../src/entrypoints/events";
import { Timer } from "../../../src/entrypoints/timer";
import { GreetingService as HandGreeting } from "../../../examples/greeting/greeting-service";
import { NotFound as HandNotFound } from "../../../examples/orders/exceptions";
import { OrdersService as HandOrders } from "../../../examples/orders/service";
import {
  NotificationService as HandNotifications,
  PaymentService as HandPayments,
} from "../../../examples/payments/payments-service";
import { ProductsService as HandProducts } from "../../../examples/products/service";
import { GreetingService } from "../../fixtures/port/generated/greeting_service";
import { NotFound, OrdersService } from "../../fixtures/port/generated/orders";
import { NotificationService, PaymentService } from "../../fixtures/port/generated/payments";
import { ProductsService } from "../../fixtures/port/generated/products";

function entrypoints(cls: ServiceClass) {
  return describeService(cls).entrypoints.map((factory) => factory());
}

function rpcMethods(cls: ServiceClass): Map<string, RpcEntrypoint> {
  const out = new Map<string, RpcEntrypoint>();
  for (const e of entrypoints(cls)) if (e instanceof RpcEntrypoint) out.set(e.methodName, e);
  return out;
}

/** The Python-visible shape of a DTO method taking its fields as keywords: its fields, optional ones as defaulted. */
function dtoFields(dto: NonNullable<RpcEntrypoint["dto"]>): Array<{ name: string; hasDefault: boolean }> {
  const rules = getMetadataStorage().getTargetValidationMetadatas(dto, "", true, false);
  const names = [...new Set(rules.map((r) => r.propertyName))];
  return names.map((name) => ({
    name,
    hasDefault: rules.some((r) => r.propertyName === name && r.type === "conditionalValidation"),
  }));
}

/** Every RPC method of the scaffold is in the hand port with the same Python signature. */
function expectSameRpcSignatures(scaffold: ServiceClass, hand: ServiceClass): void {
  const ours = rpcMethods(scaffold);
  const theirs = rpcMethods(hand);
  expect([...theirs.keys()].sort()).toEqual([...ours.keys()].sort());
  for (const [name, our] of ours) {
    const their = theirs.get(name)!;
    const ourParams = our.signature.params.map(({ name: n, hasDefault }) => ({ name: n, hasDefault }));
    // A DTO for the Python method's several keywords (welcome(name, language)) stands for its fields;
    // a DTO for one Python parameter (create(product)) keeps that parameter's name
    // (docs/nameko-wire.md, DTO parameters).
    if (their.dto && ourParams.length > 1)
      expect({ method: name, params: dtoFields(their.dto) }).toEqual({ method: name, params: ourParams });
    else expect({ method: name, ...their.signature }).toEqual({ method: name, ...our.signature });
  }
}

function eventHandlers(cls: ServiceClass) {
  return entrypoints(cls)
    .filter((e): e is EventHandler => e instanceof EventHandler)
    .map((e) => ({
      // The payments port names its methods in camelCase; the scaffold keeps Python's names.
      method: e.methodName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      source: e.sourceService,
      type: e.eventType,
      handlerType: e.handlerType,
      reliableDelivery: e.reliableDelivery,
      requeueOnError: e.requeueOnError,
    }));
}

describe("scaffolds against the hand-written ports", () => {
  it("greeting_service: the same RPC methods, parameters, order and defaults", () => {
    expectSameRpcSignatures(GreetingService, HandGreeting);
    // The scaffold writes Python's literal defaults; the hand port declares the same ones.
    expect(HandGreeting.prototype.hello.toString()).toContain('punctuation = "!"');
    expect(GreetingService.prototype.hello.toString()).toContain('punctuation = "!"');
  });

  it("payments and notifications: the same timers, event handlers, handler types and options", () => {
    expect(eventHandlers(NotificationService)).toEqual(eventHandlers(HandNotifications));
    const timers = (cls: ServiceClass) =>
      entrypoints(cls)
        .filter((e): e is Timer => e instanceof Timer)
        .map((e) => ({ interval: e.interval, eager: e.eager }));
    expect(timers(PaymentService)).toEqual(timers(HandPayments));
    expect(describeService(PaymentService).name).toBe(describeService(HandPayments).name);
    expect(describeService(NotificationService).name).toBe(describeService(HandNotifications).name);
  });

  it("products: the same RPC signatures and event handler", () => {
    expect(describeService(ProductsService).name).toBe(describeService(HandProducts).name);
    expectSameRpcSignatures(ProductsService, HandProducts);
    expect(eventHandlers(ProductsService)).toEqual(eventHandlers(HandProducts));
  });

  it("orders: the same RPC signatures, and NotFound under the same exc_path", () => {
    expect(describeService(OrdersService).name).toBe(describeService(HandOrders).name);
    expectSameRpcSignatures(OrdersService, HandOrders);
    expect(serializeError(new NotFound("x")).exc_path).toBe(serializeError(new HandNotFound("x")).exc_path);
  });
});
