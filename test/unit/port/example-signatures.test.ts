// The scaffolds of the repository's Nameko examples against their hand-written ports, as the runtime
// records them (describeService and each entrypoint): the same RPC signatures (parameter names, order,
// which have defaults, and the default values), and the same event handlers and timers.
import "reflect-metadata";
import { getMetadataStorage } from "class-validator";
import { describeService, type ServiceClass } from "cliffracer";
import { RpcEntrypoint } from "../../../src/entrypoints/rpc";
import { EventHandler } from "../../../src/entrypoints/events";
import { Timer } from "../../../src/entrypoints/timer";
import { GreetingService as HandGreeting } from "../../../examples/greeting/greeting-service";
import {
  NotificationService as HandNotifications,
  PaymentService as HandPayments,
} from "../../../examples/payments/payments-service";
import { GreetingService } from "../../fixtures/port/generated/greeting_service";
import { NotificationService, PaymentService } from "../../fixtures/port/generated/payments";

function entrypoints(cls: ServiceClass) {
  return describeService(cls).entrypoints.map((factory) => factory());
}

function rpcSignatures(cls: ServiceClass): Map<string, RpcEntrypoint> {
  const out = new Map<string, RpcEntrypoint>();
  for (const e of entrypoints(cls)) if (e instanceof RpcEntrypoint) out.set(e.methodName, e);
  return out;
}

/** The Python-visible shape of a DTO method: its validated fields, optional ones as defaulted. */
function dtoParams(dto: NonNullable<RpcEntrypoint["dto"]>): Array<{ name: string; hasDefault: boolean }> {
  const rules = getMetadataStorage().getTargetValidationMetadatas(dto, "", true, false);
  const names = [...new Set(rules.map((r) => r.propertyName))];
  return names.map((name) => ({
    name,
    hasDefault: rules.some((r) => r.propertyName === name && r.type === "conditionalValidation"),
  }));
}

/** `send_receipt` for the hand port's `sendReceipt`. */
const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe("scaffolds of examples/ against the hand-written ports", () => {
  it("greeting_service: every RPC method has the same name, parameters, order and defaults", () => {
    const scaffold = rpcSignatures(GreetingService);
    const hand = rpcSignatures(HandGreeting);
    expect([...scaffold.keys()]).toEqual([...hand.keys()]);
    for (const [name, ours] of scaffold) {
      const theirs = hand.get(name)!;
      const ourParams = ours.signature.params.map(({ name: n, hasDefault }) => ({ name: n, hasDefault }));
      if (theirs.dto) {
        // welcome(request: WelcomeRequest): a DTO whose fields are the Python keywords (docs/nameko-wire.md, DTO parameters).
        expect(dtoParams(theirs.dto)).toEqual(ourParams);
        continue;
      }
      expect({ method: name, ...theirs.signature }).toEqual({ method: name, ...ours.signature });
    }
  });

  it("greeting_service: the defaults are the same values", () => {
    // The scaffold writes Python's literal defaults; the hand port must declare the same ones.
    expect(HandGreeting.prototype.hello.toString()).toContain('punctuation = "!"');
    expect(GreetingService.prototype.hello.toString()).toContain('punctuation = "!"');
  });

  it("payments and notifications: the same timers and event handlers, handler types and options", () => {
    const handlers = (cls: ServiceClass) =>
      entrypoints(cls)
        .filter((e): e is EventHandler => e instanceof EventHandler)
        .map((e) => ({
          method: snake(e.methodName),
          source: e.sourceService,
          type: e.eventType,
          handlerType: e.handlerType,
          reliableDelivery: e.reliableDelivery,
          requeueOnError: e.requeueOnError,
        }));
    // The hand port names its methods in camelCase; the scaffold keeps Python's names.
    expect(handlers(NotificationService)).toEqual(handlers(HandNotifications));
    const timers = (cls: ServiceClass) =>
      entrypoints(cls)
        .filter((e): e is Timer => e instanceof Timer)
        .map((e) => ({ interval: e.interval, eager: e.eager }));
    expect(timers(PaymentService)).toEqual(timers(HandPayments));
    expect(describeService(PaymentService).name).toBe(describeService(HandPayments).name);
    expect(describeService(NotificationService).name).toBe(describeService(HandNotifications).name);
  });
});
