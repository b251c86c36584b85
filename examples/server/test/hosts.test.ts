import { describe, expect, it } from "vitest";
import { allowedHosts, hostnameOf, isLoopback, parseAllowedHosts, refuseOtherHosts } from "../hosts.js";

describe("hostnameOf", () => {
  it("normalizes a Host value as a browser's URL parser would, and drops the port", () => {
    expect(hostnameOf("localhost")).toBe("localhost");
    expect(hostnameOf("LocalHost:3000")).toBe("localhost");
    expect(hostnameOf("localhost.:3000")).toBe("localhost");
    expect(hostnameOf("127.1:80")).toBe("127.0.0.1");
    expect(hostnameOf("[0:0:0:0:0:0:0:1]:3000")).toBe("[::1]");
    expect(hostnameOf("Demo.Example.COM")).toBe("demo.example.com");
  });

  it("is undefined for anything that is not one host", () => {
    for (const value of [
      "",
      "localhost:3000, evil.example",
      "evil.example@localhost",
      "localhost/path",
      "localhost:99999",
      "localhost:",
      "::1",
      "[::1",
      "local host",
      "localhost:3000:3000",
      "..localhost",
      "a..localhost:3000",
      ".",
    ]) {
      expect(hostnameOf(value), value).toBeUndefined();
    }
  });
});

describe("isLoopback", () => {
  it("is true for localhost, *.localhost, 127.0.0.0/8 and [::1] only", () => {
    for (const name of ["localhost", "app.localhost", "127.0.0.1", "127.255.3.4", "[::1]"]) {
      expect(isLoopback(name), name).toBe(true);
    }
    for (const name of [
      "localhost.attacker.example",
      "127.0.0.1.nip.io",
      "attacker.example",
      "0.0.0.0",
      "128.0.0.1",
      "[::2]",
      "notlocalhost",
    ]) {
      expect(isLoopback(name), name).toBe(false);
    }
  });
});

describe("parseAllowedHosts (PAYLINK_ALLOWED_HOSTS)", () => {
  it("reads comma-separated hostnames, normalized; spaces and empty entries are ignored", () => {
    expect(parseAllowedHosts(undefined)).toEqual([]);
    expect(parseAllowedHosts("")).toEqual([]);
    expect(parseAllowedHosts(" Demo.Example.com , .Example.ORG,,[fd00::1] ,10.0.0.5")).toEqual([
      "demo.example.com",
      ".example.org",
      "[fd00::1]",
      "10.0.0.5",
    ]);
  });

  it("refuses an entry that is not a hostname, naming it", () => {
    for (const entry of [
      "http://demo.example.com",
      "demo.example.com:3000",
      "demo.example.com/x",
      "*",
      "*.example.com",
      "a b",
      ".",
      "..example.com",
      "user@demo.example.com",
      ".[fd00::1]",
    ]) {
      expect(() => parseAllowedHosts(`localhost,${entry}`), entry).toThrow(
        `PAYLINK_ALLOWED_HOSTS: "${entry}" is not a hostname`,
      );
    }
  });
});

describe("allowedHosts", () => {
  const loopbackOnly = allowedHosts();
  const withExtra = allowedHosts(["demo.example.com", ".example.org"]);

  it("allows loopback with any port by default, and nothing else", () => {
    for (const host of [
      "localhost",
      "localhost:3000",
      "127.0.0.1:3000",
      "127.8.9.10",
      "[::1]:3000",
      "app.localhost:5173",
    ]) {
      expect(loopbackOnly.allowsHost(host), host).toBe(true);
    }
    for (const host of [
      "rebind.attacker.example:3000",
      "localhost.attacker.example",
      "demo.example.com",
      "192.168.1.10:3000",
      "0.0.0.0:3000",
      "",
      "localhost:3000, rebind.attacker.example",
    ]) {
      expect(loopbackOnly.allowsHost(host), host).toBe(false);
    }
    expect(loopbackOnly.allowsHost(null)).toBe(false);
    expect(loopbackOnly.extra).toEqual([]);
  });

  it("adds exact names, and with a leading dot a name and all its subdomains", () => {
    expect(withExtra.extra).toEqual(["demo.example.com", ".example.org"]);
    expect(withExtra.allowsHost("demo.example.com")).toBe(true);
    expect(withExtra.allowsHost("DEMO.example.com:443")).toBe(true);
    expect(withExtra.allowsHost("sub.demo.example.com")).toBe(false);
    expect(withExtra.allowsHost("example.com")).toBe(false);
    expect(withExtra.allowsHost("example.org")).toBe(true);
    expect(withExtra.allowsHost("a.b.example.org:8443")).toBe(true);
    expect(withExtra.allowsHost("badexample.org")).toBe(false);
    expect(withExtra.allowsHost("example.org.attacker.example")).toBe(false);
    expect(withExtra.allowsHost("localhost:3000")).toBe(true);
  });

  it("allows an Origin only when it is an http(s) origin on an allowed host", () => {
    expect(loopbackOnly.allowsOrigin("http://127.0.0.1:3000")).toBe(true);
    expect(loopbackOnly.allowsOrigin("http://localhost:3000")).toBe(true);
    expect(loopbackOnly.allowsOrigin("http://[::1]:3000")).toBe(true);
    expect(withExtra.allowsOrigin("https://demo.example.com")).toBe(true);
    expect(withExtra.allowsOrigin("https://pay.example.org")).toBe(true);
    for (const origin of [
      "http://rebind.attacker.example:3000",
      "https://demo.example.com",
      "null",
      "",
      "ftp://localhost",
      "http://localhost:3000/path",
      "http://user@localhost:3000",
      "localhost:3000",
      "http://localhost:3000, http://evil.example",
    ]) {
      expect(loopbackOnly.allowsOrigin(origin), origin).toBe(false);
    }
  });

  it("throws on an entry that is not a hostname", () => {
    expect(() => allowedHosts(["demo.example.com:3000"])).toThrow(/is not a hostname/);
  });
});

describe("refuseOtherHosts", () => {
  const hosts = allowedHosts(["demo.example.com"]);
  const request = (url: string, host?: string) =>
    new Request(url, host === undefined ? {} : { headers: { host } });

  it("serves an allowed Host (undefined: go on)", () => {
    expect(refuseOtherHosts(hosts, request("http://127.0.0.1:3000/", "127.0.0.1:3000"))).toBeUndefined();
    expect(refuseOtherHosts(hosts, request("http://localhost:3000/x", "localhost:3000"))).toBeUndefined();
    expect(refuseOtherHosts(hosts, request("http://demo.example.com/", "demo.example.com"))).toBeUndefined();
  });

  it("answers 421, without echoing the name, for a Host that is not allowed", async () => {
    const refused = refuseOtherHosts(
      hosts,
      request("http://rebind.attacker.example:3000/", "rebind.attacker.example:3000"),
    );
    expect(refused?.status).toBe(421);
    expect(refused?.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const text = await refused!.text();
    expect(text).toContain("Misdirected Request");
    expect(text).not.toContain("attacker");
  });

  it("answers 421 for an absolute request target on another host, whatever Host says", () => {
    expect(refuseOtherHosts(hosts, request("http://evil.example/", "localhost:3000"))?.status).toBe(421);
  });

  it("answers 400 without a Host, or with one that is not a host", () => {
    expect(refuseOtherHosts(hosts, request("http://127.0.0.1/"))?.status).toBe(400);
    expect(refuseOtherHosts(hosts, request("http://127.0.0.1/", "localhost, evil.example"))?.status).toBe(
      400,
    );
  });
});
