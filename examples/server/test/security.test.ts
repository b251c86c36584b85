/**
 * Findings of the demo server's security test, end to end over HTTP: DNS rebinding (the `Host` and the
 * form posts' `Origin` are checked against the allowed hosts), the merchant page's paging (bounded, not
 * every payment), and encoded slashes in the pages' path parameters.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Payment } from "@paylink/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowedHosts } from "../hosts.js";
import { DEMO_SCOPE } from "../seed.js";
import { type DemoOptions, type DemoServer, startDemoServer } from "../server.js";
import { isCrossOrigin } from "../web.js";

const KEY = { "x-api-key": "sk_test_demo" };
const FORM = { "content-type": "application/x-www-form-urlencoded" };

const dirs: string[] = [];
const servers: DemoServer[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function start(options: Partial<DemoOptions> = {}): Promise<DemoServer> {
  const dir = mkdtempSync(join(tmpdir(), "paylink-security-"));
  dirs.push(dir);
  const demo = await startDemoServer({
    port: 0,
    dbFile: join(dir, "demo.db"),
    log: () => undefined,
    ...options,
  });
  servers.push(demo);
  return demo;
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A request with exactly the headers given, `Host` included (fetch would set its own): `host: null`
 * sends none at all.
 */
function send(
  demo: DemoServer,
  path: string,
  options: { method?: string; headers?: Record<string, string>; host?: string | null; body?: string } = {},
): Promise<Answer> {
  const host = options.host === undefined ? `127.0.0.1:${demo.port}` : options.host;
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: "127.0.0.1",
        port: demo.port,
        path,
        method: options.method ?? "GET",
        setHost: false,
        headers: { ...(host === null ? {} : { host }), ...options.headers },
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8").on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode!, headers: response.headers, body }));
      },
    );
    outgoing.on("error", reject);
    outgoing.end(options.body);
  });
}

/** Raw bytes on a socket, for what `http.request` cannot send (HTTP/1.0, absolute targets); the status. */
function sendRaw(demo: DemoServer, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(demo.port, "127.0.0.1", () => socket.end(text));
    let answer = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("end", () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on("error", reject);
  });
}

const statusOf = async (demo: DemoServer, id: string) =>
  (await demo.links.get(DEMO_SCOPE, id))._unsafeUnwrap().status;

describe("DNS rebinding: only the allowed hosts are answered", () => {
  let demo: DemoServer;
  beforeAll(async () => {
    demo = await start();
  });

  it("the security test's curl (a rebound name posting to itself) gets 421 and cancels nothing", async () => {
    const attacker = `rebind.attacker.example:${demo.port}`;
    const answer = await send(demo, "/merchant/payments/pay_demo_viewed/cancel", {
      method: "POST",
      host: attacker,
      headers: { origin: `http://${attacker}`, "sec-fetch-site": "same-origin" },
    });
    expect(answer.status).toBe(421);
    expect(answer.headers.location).toBeUndefined();
    expect(answer.body).not.toContain("attacker");
    expect(await statusOf(demo, "pay_demo_viewed")).toBe("viewed");
  });

  it("refuses every page and API route for another Host before reading or changing anything", async () => {
    const host = `rebind.attacker.example:${demo.port}`;
    for (const [method, path, headers] of [
      ["GET", "/", {}],
      ["GET", "/lifecycle", {}],
      ["GET", "/pay/pay_demo_pending", {}], // would record a view
      ["POST", "/pay/pay_demo_pending/pay", FORM],
      ["POST", "/merchant/payments", FORM],
      ["GET", "/payments/pay_demo_pending", KEY],
      ["POST", "/payments/pay_demo_pending/cancel", KEY],
      ["POST", "/v1/payment-links/pay_demo_pending/cancellation", { authorization: "Bearer sk_test_demo" }],
      ["GET", "/docs", {}],
      ["GET", "/openapi.json", {}],
    ] as const) {
      const answer = await send(demo, path, {
        method,
        host,
        headers,
        body: method === "POST" ? "" : undefined,
      });
      expect(answer.status, `${method} ${path}`).toBe(421);
      expect(answer.body, `${method} ${path}`).not.toMatch(/pay_demo|<html/i);
    }
    expect(await statusOf(demo, "pay_demo_pending")).toBe("pending");
    const all = (await demo.links.list(DEMO_SCOPE, { limit: 100 }))._unsafeUnwrap();
    expect(all).toHaveLength(8);
  });

  it("refuses a request without Host (400), on HTTP/1.1 and 1.0 alike", async () => {
    expect((await send(demo, "/", { host: null })).status).toBe(400);
    expect(await sendRaw(demo, "GET / HTTP/1.0\r\n\r\n")).toBe(400);
    expect(await sendRaw(demo, `GET / HTTP/1.0\r\nHost: 127.0.0.1:${demo.port}\r\n\r\n`)).toBe(200);
  });

  it("refuses an absolute request target on another host, whatever Host says", async () => {
    const status = await sendRaw(
      demo,
      `POST http://rebind.attacker.example:${demo.port}/merchant/payments/pay_demo_viewed/cancel HTTP/1.1\r\nHost: 127.0.0.1:${demo.port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    expect(status).toBe(421);
    expect(await statusOf(demo, "pay_demo_viewed")).toBe("viewed");
  });

  it("still serves 127.0.0.1, localhost and the other loopback names, pages and API", async () => {
    for (const host of [
      `127.0.0.1:${demo.port}`,
      `localhost:${demo.port}`,
      "localhost",
      `127.0.0.2:${demo.port}`,
      `[::1]:${demo.port}`,
    ]) {
      expect((await send(demo, "/", { host })).status, host).toBe(200);
      expect((await send(demo, "/payments/pay_demo_paid", { host, headers: KEY })).status, host).toBe(200);
    }
    // A browser's own form on http://localhost:<port> cancels.
    const ok = await send(demo, "/merchant/payments/pay_demo_attempted/cancel", {
      method: "POST",
      host: `localhost:${demo.port}`,
      headers: { ...FORM, origin: `http://localhost:${demo.port}`, "sec-fetch-site": "same-origin" },
    });
    expect(ok.status).toBe(303);
    expect(await statusOf(demo, "pay_demo_attempted")).toBe("canceled");
  });

  it("refuses a form post whose Origin is not an allowed host, even with an allowed Host", async () => {
    for (const origin of [`http://rebind.attacker.example:${demo.port}`, "null", "http://evil.example"]) {
      const answer = await send(demo, "/merchant/payments/pay_demo_pending/cancel", {
        method: "POST",
        headers: { ...FORM, origin, "sec-fetch-site": "same-origin" },
      });
      expect(answer.status, origin).toBe(403);
    }
    expect(await statusOf(demo, "pay_demo_pending")).toBe("pending");
  });

  it("isCrossOrigin compares Origin with the allowed hosts, not with the request's own Host", () => {
    const rebound = "http://rebind.attacker.example:3000";
    const post = (url: string, headers: Record<string, string>) =>
      new Request(url, { method: "POST", headers });
    // The rebinding request is same-origin with its own Host: only the allowed list tells it apart.
    expect(
      isCrossOrigin(
        post(`${rebound}/merchant/payments/x/cancel`, { origin: rebound, "sec-fetch-site": "same-origin" }),
        allowedHosts(),
      ),
    ).toBe(true);
    // Behind a TLS proxy the Origin is https while the request reaches the demo over http: still allowed.
    expect(
      isCrossOrigin(
        post("http://demo.example.com/merchant/payments/x/cancel", { origin: "https://demo.example.com" }),
        allowedHosts(["demo.example.com"]),
      ),
    ).toBe(false);
    // Sec-Fetch-Site still decides first: another port of an allowed host is same-site, not same-origin.
    expect(
      isCrossOrigin(
        post("http://127.0.0.1:3000/", { origin: "http://127.0.0.1:8080", "sec-fetch-site": "same-site" }),
        allowedHosts(),
      ),
    ).toBe(true);
    expect(isCrossOrigin(post("http://127.0.0.1:3000/", {}), allowedHosts())).toBe(false);
  });

  it("answers the names of allowedHosts (PAYLINK_ALLOWED_HOSTS), and form posts from them", async () => {
    const extra = await start({ allowedHosts: ["demo.example.com", ".example.org"] });
    expect(extra.banner.join("\n")).toContain("demo.example.com, .example.org");
    for (const host of ["demo.example.com", "pay.example.org:8443", `localhost:${extra.port}`]) {
      expect((await send(extra, "/", { host })).status, host).toBe(200);
    }
    expect((await send(extra, "/", { host: "demo.example.com.attacker.example" })).status).toBe(421);
    const posted = await send(extra, "/merchant/payments/pay_demo_pending/cancel", {
      method: "POST",
      host: "demo.example.com",
      headers: { ...FORM, origin: "https://demo.example.com", "sec-fetch-site": "same-origin" },
    });
    expect(posted.status).toBe(303);
    expect(await statusOf(extra, "pay_demo_pending")).toBe("canceled");
    await expect(start({ allowedHosts: ["demo.example.com:3000"] })).rejects.toThrow(/is not a hostname/);
  });
});

describe("the merchant page is paged: the newest 50, then older ones by cursor", () => {
  let demo: DemoServer;
  /** Every payment, newest first, as the store lists them. */
  let all: Payment[];
  let time = Date.now();

  beforeAll(async () => {
    // One second apart, so "newest" is the creation order and not the ids' (random) order.
    demo = await start({ clock: { now: () => new Date(time) } });
    for (let i = 0; i < 120; i++) {
      time += 1000;
      const created = await demo.links.create(DEMO_SCOPE, {
        customerId: "cus_paging",
        provider: "stripe",
        amountSubtotal: 100 + i,
        taxAmount: 0,
        currency: "GBP",
        description: `Paging ${i}`,
        metadata: {},
        expiresAt: new Date(time + 86_400_000),
      });
      created._unsafeUnwrap();
    }
    all = [];
    for (;;) {
      const last = all.at(-1)?.id;
      const page = (
        await demo.links.list(
          DEMO_SCOPE,
          last === undefined ? { limit: 100 } : { limit: 100, startingAfter: last },
        )
      )._unsafeUnwrap();
      all.push(...page);
      if (page.length < 100) break;
    }
    expect(all).toHaveLength(128);
    expect(all[0]!.description).toBe("Paging 119");
  });

  const rowIds = (html: string) => [...html.matchAll(/<tr id="[^"]*" data-id="([^"]+)"/g)].map((m) => m[1]!);
  const link = (html: string, rel: string) => {
    const href = new RegExp(`<a href="([^"]*)" rel="${rel}">`).exec(html)?.[1];
    return href?.replace(/&#38;/g, "&");
  };

  it("walks 50, 50, 28 rows with Older links, and back with Newest; every payment once, in order", async () => {
    const first = await send(demo, "/");
    expect(first.status).toBe(200);
    expect(rowIds(first.body)).toEqual(all.slice(0, 50).map((p) => p.id));
    expect(link(first.body, "first")).toBeUndefined();
    expect(link(first.body, "next")).toBe(`/?starting_after=${all[49]!.id}`);

    const second = await send(demo, link(first.body, "next")!);
    expect(rowIds(second.body)).toEqual(all.slice(50, 100).map((p) => p.id));
    expect(link(second.body, "first")).toBe("/");
    expect(link(second.body, "next")).toBe(`/?starting_after=${all[99]!.id}`);

    const third = await send(demo, link(second.body, "next")!);
    expect(rowIds(third.body)).toEqual(all.slice(100).map((p) => p.id));
    expect(link(third.body, "first")).toBe("/");
    expect(link(third.body, "next")).toBeUndefined();
    expect(third.body).not.toMatch(/<script/i);
  });

  it("an unknown, malformed or hostile cursor gives an empty page that says so, never a 500", async () => {
    for (const cursor of ["pay_nope", "pay%2Fx", "%3Cscript%3E", "x".repeat(300), "%00", all.at(-1)!.id]) {
      const answer = await send(demo, `/?starting_after=${cursor}`);
      expect(answer.status, cursor).toBe(200);
      expect(rowIds(answer.body), cursor).toEqual([]);
      expect(answer.body).toContain("No older payments here");
      expect(link(answer.body, "first")).toBe("/");
      expect(answer.body).not.toMatch(/<script/i);
    }
    // An empty cursor is the newest page.
    expect(rowIds((await send(demo, "/?starting_after=")).body)).toHaveLength(50);
  });

  it("a cancel from an older page comes back to that page", async () => {
    const target = all.find((p, index) => index >= 50 && index < 100 && p.status === "pending")!;
    const cursor = all[49]!.id;
    const page = await send(demo, `/?starting_after=${cursor}`);
    expect(page.body).toContain(`<input type="hidden" name="starting_after" value="${cursor}">`);
    const answer = await send(demo, `/merchant/payments/${target.id}/cancel`, {
      method: "POST",
      headers: FORM,
      body: `starting_after=${cursor}`,
    });
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe(
      `/?done=canceled&payment=${target.id}&starting_after=${cursor}#${target.id}`,
    );
    const back = await send(demo, answer.headers.location!.split("#")[0]!);
    expect(back.body).toContain(`${target.id} was canceled.`);
    expect(rowIds(back.body)).toContain(target.id);
  });
});

describe("an encoded slash in a page's path parameter is a 404, as in the API", () => {
  let demo: DemoServer;
  beforeAll(async () => {
    demo = await start();
  });

  it("GET /pay/{id}: an id holding %2F or %2f", async () => {
    for (const path of [
      "/pay/pay_demo_viewed%2Fpay",
      "/pay/pay_demo_viewed%2fpay",
      "/pay%2Fpay_demo_pending",
      "/pay/%2Fpay_demo_pending",
    ]) {
      expect((await send(demo, path)).status, path).toBe(404);
    }
    // The API answers the same shape 404 too.
    expect((await send(demo, "/payments/pay_demo_viewed%2Fx", { headers: KEY })).status).toBe(404);
    // Nothing was viewed.
    expect(await statusOf(demo, "pay_demo_pending")).toBe("pending");
  });

  it("POST /pay/{id}/pay: an id holding %2F or %2f pays nothing", async () => {
    for (const path of [
      "/pay/pay_demo_viewed%2Fpay",
      "/pay/pay_demo_viewed%2fpay",
      "/pay/pay_demo_viewed%2Fpay/pay",
      "/pay%2Fpay_demo_viewed/pay",
    ]) {
      const answer = await send(demo, path, { method: "POST", headers: FORM, body: "card=4242424242424242" });
      expect(answer.status, path).toBe(404);
    }
    expect(await statusOf(demo, "pay_demo_viewed")).toBe("viewed");
  });

  it("POST /merchant/payments/{id}/cancel: an id holding %2F or %2f cancels nothing", async () => {
    for (const path of [
      "/merchant/payments/pay_demo_viewed%2Fcancel",
      "/merchant/payments/pay_demo_viewed%2fcancel",
      "/merchant/payments/pay_demo_viewed%2Fx/cancel",
      "/merchant%2Fpayments/pay_demo_viewed/cancel",
    ]) {
      const answer = await send(demo, path, { method: "POST", headers: FORM, body: "" });
      expect(answer.status, path).toBe(404);
    }
    expect(await statusOf(demo, "pay_demo_viewed")).toBe("viewed");
    // The same routes, well formed, still work.
    expect(
      (
        await send(demo, "/merchant/payments/pay_demo_viewed/cancel", {
          method: "POST",
          headers: FORM,
          body: "",
        })
      ).status,
    ).toBe(303);
    expect(await statusOf(demo, "pay_demo_viewed")).toBe("canceled");
  });
});
