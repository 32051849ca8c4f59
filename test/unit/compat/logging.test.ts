import { ValueError } from "../../../compat/errors";
import { errorLogFields, maskUrlCredentials } from "../../../compat/logging";

describe("maskUrlCredentials", () => {
  it("masks the password of a URL and keeps user, host, port and path", () => {
    expect(maskUrlCredentials("amqp://guest:guest@rabbit:5672/vhost")).toBe("amqp://guest:***@rabbit:5672/vhost");
  });

  it("masks every URL in a text, e.g. a server list", () => {
    expect(maskUrlCredentials("nats://a:p1@n1:4222,nats://b:p2@n2:4222")).toBe(
      "nats://a:***@n1:4222,nats://b:***@n2:4222",
    );
  });

  it("takes a port for what it is, not a password", () => {
    expect(maskUrlCredentials("amqp://rabbit:5672/x@y")).toBe("amqp://rabbit:5672/x@y");
    expect(maskUrlCredentials("nats://127.0.0.1:4222")).toBe("nats://127.0.0.1:4222");
  });

  it("masks a password with characters a URL must percent-encode", () => {
    expect(maskUrlCredentials("amqp://u:p%2Fw%40rd@h")).toBe("amqp://u:***@h");
  });

  it("leaves a URL without a password alone", () => {
    expect(maskUrlCredentials("amqp://guest@rabbit")).toBe("amqp://guest@rabbit");
  });
});

describe("errorLogFields", () => {
  it("gives an error itself, so the logger writes its message and stack", () => {
    const err = new ValueError("x");
    expect(errorLogFields(err)).toBe(err);
  });

  it("describes a thrown non-Error value", () => {
    expect(errorLogFields("boom")).toEqual({ error: "boom" });
  });

  it("describes an error whose message cannot be read, instead of handing the logger a throwing getter", () => {
    class Unprintable extends Error {}
    const err = Object.defineProperty(new Unprintable(), "message", {
      get(): string {
        throw new Error("message getter failed");
      },
    });
    expect(errorLogFields(err)).toEqual({ error: "Unprintable (its message cannot be read)" });
  });
});
