import { ConnectionFailed, tlsFailureReason } from "../../../compat/connection-failure";

describe("tlsFailureReason", () => {
  const withCode = (code: string, message: string): Error => Object.assign(new Error(message), { code });

  it("words certificate failures by their OpenSSL code, also when wrapped in a cause", () => {
    expect(
      tlsFailureReason(withCode("SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain")),
    ).toBe("certificate signed by unknown authority (self-signed certificate in certificate chain)");
    const wrapped = new Error("outer", {
      cause: withCode("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames"),
    });
    expect(tlsFailureReason(wrapped)).toBe(
      "certificate is not valid for this host name (Hostname/IP does not match certificate's altnames)",
    );
    expect(tlsFailureReason(withCode("ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED", "alert"))).toBe(
      "TLS handshake failed: alert",
    );
  });

  it("knows them by their message when the code was lost", () => {
    expect(tlsFailureReason(new Error("Error: unable to verify the first certificate"))).toBe(
      "certificate signed by unknown authority (unable to verify the first certificate)",
    );
  });

  it("leaves failures a retry can fix alone", () => {
    expect(tlsFailureReason(withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5672"))).toBeUndefined();
    expect(tlsFailureReason(new Error("timeout"))).toBeUndefined();
    expect(tlsFailureReason(undefined)).toBeUndefined();
  });
});

describe("ConnectionFailed", () => {
  it("names the broker, the server and the reason", () => {
    const err = new ConnectionFailed("nats", "tls://127.0.0.1:4443", "certificate signed by unknown authority");
    expect(err.name).toBe("ConnectionFailed");
    expect(err.message).toBe("nats tls://127.0.0.1:4443: certificate signed by unknown authority");
  });
});
