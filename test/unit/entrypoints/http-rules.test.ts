import { ConfigurationError } from "../../../compat/errors";
import { compareRules, parseMethods, RuleMap, UrlRule } from "../../../src/entrypoints/http-rules";

describe("http rules", () => {
  it("matches a static rule exactly", () => {
    const rule = new UrlRule("/hello");
    expect(rule.match("/hello")).toEqual({});
    expect(rule.match("/hello/")).toBeUndefined();
    expect(rule.match("/hell")).toBeUndefined();
  });

  it("reads a bare variable as a string of one segment", () => {
    const rule = new UrlRule("/hello/<name>");
    expect(rule.variables).toEqual([{ name: "name", converter: "string" }]);
    expect(rule.match("/hello/ada")).toEqual({ name: "ada" });
    expect(rule.match("/hello/")).toBeUndefined();
    expect(rule.match("/hello/a/b")).toBeUndefined();
  });

  it("converts int values and rejects anything else", () => {
    const rule = new UrlRule("/int/<int:n>");
    expect(rule.match("/int/42")).toEqual({ n: 42 });
    expect(rule.match("/int/x")).toBeUndefined();
    expect(rule.match("/int/-1")).toBeUndefined();
    expect(rule.match("/int/1.5")).toBeUndefined();
    expect(rule.match("/int/123456789012345678901")).toEqual({ n: 123456789012345678901n });
  });

  it("applies int arguments: fixed_digits, min, max, signed", () => {
    expect(new UrlRule("/y/<int(fixed_digits=4):y>").match("/y/0042")).toEqual({ y: 42 });
    expect(new UrlRule("/y/<int(fixed_digits=4):y>").match("/y/42")).toBeUndefined();
    const bounded = new UrlRule("/p/<int(min=1, max=10):p>");
    expect(bounded.match("/p/10")).toEqual({ p: 10 });
    expect(bounded.match("/p/0")).toBeUndefined();
    expect(bounded.match("/p/11")).toBeUndefined();
    expect(new UrlRule("/s/<int(signed=True):s>").match("/s/-3")).toEqual({ s: -3 });
  });

  it("reads float, explicit string, any and uuid converters", () => {
    expect(new UrlRule("/f/<float:x>").match("/f/1.5")).toEqual({ x: 1.5 });
    expect(new UrlRule("/f/<float:x>").match("/f/1")).toBeUndefined();
    expect(new UrlRule("/s/<string:x>").match("/s/a b")).toEqual({ x: "a b" });
    expect(new UrlRule("/s/<string(length=2):x>").match("/s/abc")).toBeUndefined();
    const any = new UrlRule("/<any(about, help):page>");
    expect(any.match("/help")).toEqual({ page: "help" });
    expect(any.match("/other")).toBeUndefined();
    const id = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    expect(new UrlRule("/u/<uuid:id>").match(`/u/${id}`)).toEqual({ id });
  });

  it("lets a path variable span slashes, also in the middle of a rule", () => {
    expect(new UrlRule("/files/<path:p>").match("/files/a/b/c.txt")).toEqual({ p: "a/b/c.txt" });
    expect(new UrlRule("/files/<path:p>/edit").match("/files/a/b/edit")).toEqual({ p: "a/b" });
    expect(new UrlRule("/files/<path:p>").match("/files/")).toBeUndefined();
  });

  it("treats regex characters in the static text literally", () => {
    const rule = new UrlRule("/v1.0/(x)+/<name>");
    expect(rule.match("/v1.0/(x)+/a")).toEqual({ name: "a" });
    expect(rule.match("/v1x0/(x)+/a")).toBeUndefined();
  });

  it("refuses malformed rules", () => {
    expect(() => new UrlRule("hello")).toThrow(ConfigurationError);
    expect(() => new UrlRule("/<bogus:x>")).toThrow(/unknown converter bogus/);
    expect(() => new UrlRule("/<a>/<a>")).toThrow(/appears twice/);
    expect(() => new UrlRule("/<a")).toThrow(/malformed/);
  });

  it("orders rules as werkzeug does: static first, then more parts, then lighter converters", () => {
    const rules = ["/<path:p>", "/user/<name>", "/user/<int:id>", "/user/me", "/<a>/<b>/<c>"].map(
      (r) => new UrlRule(r),
    );
    expect([...rules].sort(compareRules).map((r) => r.rule)).toEqual([
      "/user/me",
      "/<a>/<b>/<c>",
      "/user/<int:id>",
      "/user/<name>",
      "/<path:p>",
    ]);
  });
});

describe("http methods", () => {
  it("splits a comma-separated list, upper-cases it and adds HEAD to GET", () => {
    expect(parseMethods("GET")).toEqual(["GET", "HEAD"]);
    expect(parseMethods("post, put")).toEqual(["POST", "PUT"]);
    expect(parseMethods("GET,POST")).toEqual(["GET", "POST", "HEAD"]);
  });

  it("refuses an empty or malformed list", () => {
    expect(() => parseMethods("")).toThrow(ConfigurationError);
    expect(() => parseMethods("GET POST")).toThrow(ConfigurationError);
  });
});

describe("http rule map", () => {
  function map(): RuleMap<string> {
    const m = new RuleMap<string>();
    m.add(new UrlRule("/user/<name>"), parseMethods("GET"), "by-name");
    m.add(new UrlRule("/user/<int:id>"), parseMethods("GET,DELETE"), "by-id");
    m.add(new UrlRule("/user/me"), parseMethods("GET"), "me");
    m.add(new UrlRule("/dir/"), parseMethods("POST"), "dir");
    return m;
  }

  it("routes to the first rule in werkzeug order whatever the registration order", () => {
    const m = map();
    expect(m.match("GET", "/user/me")).toEqual({ kind: "found", target: "me", values: {} });
    expect(m.match("GET", "/user/7")).toEqual({ kind: "found", target: "by-id", values: { id: 7 } });
    expect(m.match("GET", "/user/ada")).toEqual({ kind: "found", target: "by-name", values: { name: "ada" } });
    expect(m.match("HEAD", "/user/ada")).toMatchObject({ kind: "found", target: "by-name" });
  });

  it("answers not-allowed with every verb of the rules matching the path", () => {
    expect(map().match("POST", "/user/7")).toEqual({ kind: "not-allowed", allowed: ["DELETE", "GET", "HEAD"] });
  });

  it("skips a rule whose verb does not fit and falls through to the next match", () => {
    expect(map().match("DELETE", "/user/7")).toMatchObject({ kind: "found", target: "by-id" });
    expect(map().match("DELETE", "/user/ada")).toEqual({ kind: "not-allowed", allowed: ["GET", "HEAD"] });
  });

  it("answers not-found for an unknown path, and redirect to the canonical slash form", () => {
    expect(map().match("GET", "/nowhere")).toEqual({ kind: "not-found" });
    expect(map().match("POST", "/dir")).toEqual({ kind: "redirect", path: "/dir/" });
  });

  it("refuses a rule already routed for the same verb, and forgets a removed target", () => {
    const m = map();
    expect(() => m.add(new UrlRule("/user/me"), ["GET"], "again")).toThrow(/already routed/);
    m.add(new UrlRule("/user/me"), ["PUT"], "put-me");
    m.remove("me");
    expect(m.match("GET", "/user/me")).toMatchObject({ kind: "found", target: "by-name" });
    expect(m.match("PUT", "/user/me")).toMatchObject({ kind: "found", target: "put-me" });
  });
});
