/**
 * End to end over real HTTP: the app served by `serve` on an ephemeral port, requests from `fetch`, raw
 * sockets and curl.
 */
import { execFile } from "node:child_process";
import { connect } from "node:net";
import { promisify } from "node:util";
import { createPaymentLinks } from "@paylink/core";
import { type ServerHandle, serve } from "@paylink/http";
import { createMemoryStore, type MemoryStore } from "@paylink/store-memory";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestArb, toRequest } from "./arbitraries.js";
import { checkResponse } from "./check.js";
import { KEYS, type Setup, type StateName, setup } from "./helpers.js";

const run = promisify(execFile);

let s: Setup;
let ids: Record<StateName, string>;
let server: ServerHandle;

beforeAll(async () => {
  s = setup();
  ids = await s.seed();
  server = await serve({ app: s.app, port: 0 });
});
afterAll(async () => {
  await server.close();
});

const A = { "x-api-key": KEYS.rw };
const B = { authorization: `Bearer ${KEYS.rw}` };
const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
  fetch(`${server.url}${path}`, { method, headers, body });
const jsonHeaders = (h: Record<string, string>) => ({ ...h, "content-type": "application/json" });

/** Sends exact bytes on a socket and returns the raw response head and body. */
function raw(request: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1");
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      data += chunk;
    });
    socket.on("end", () => {
      const [head = "", ...rest] = data.split("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), head, body: rest.join("\r\n\r\n") });
    });
    socket.on("error", reject);
    socket.write(request);
  });
}

describe("over real HTTP", () => {
  it("serves the seed's literal request: POST /payments/{id}/cancel with no body and no content type", async () => {
    const response = await raw(
      `POST /payments/${ids.viewed}/cancel HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEYS.rw}\r\nConnection: close\r\n\r\n`,
    );
    expect(response.status).toBe(200);
    expect(response.head).not.toMatch(/content-type: (?!application\/json)/i);
    const body = JSON.parse(response.body.replace(/^[0-9a-f]+\r\n|\r\n0\r\n$/g, "")) as {
      success: boolean;
      data: { status: string };
    };
    expect(body.success).toBe(true);
    expect(body.data.status).toBe("canceled");
  });

  it("reads chunked bodies, and stops a chunked body over the limit with 413", async () => {
    const chunked = (body: string) => {
      const parts: string[] = [];
      for (let i = 0; i < body.length; i += 1000) {
        const part = body.slice(i, i + 1000);
        parts.push(`${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`);
      }
      return (
        `POST /payments HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEYS.rw}\r\n` +
        `content-type: application/json\r\ntransfer-encoding: chunked\r\nConnection: close\r\n\r\n${parts.join("")}0\r\n\r\n`
      );
    };
    const unchunk = (body: string) => body.replace(/(^|\r\n)[0-9a-f]+\r\n/g, "").replace(/\r\n$/, "");
    const ok = await raw(
      chunked(
        JSON.stringify({
          customerId: "c",
          provider: "p",
          amountSubtotal: 1,
          currency: "GBP",
          expiresAt: "2026-02-01T00:00:00Z",
          description: "d".repeat(900),
        }),
      ),
    );
    expect(ok.status).toBe(200);
    expect(JSON.parse(unchunk(ok.body)).data.amountTotal).toBe(1);
    const tooBig = await raw(chunked(JSON.stringify({ description: "x".repeat(70_000) })));
    expect(tooBig.status).toBe(413);
    expect(JSON.parse(unchunk(tooBig.body)).error.code).toBe("body_too_large");
  });

  it("curl: cancel, the same again (no-op), a charge (refused)", async () => {
    const curl = async (id: string) => {
      const { stdout } = await run("curl", [
        "-s",
        "-X",
        "POST",
        `${server.url}/payments/${id}/cancel`,
        "-H",
        `x-api-key: ${KEYS.rw}`,
        "-w",
        "\n%{http_code}",
      ]);
      const lines = stdout.trimEnd().split("\n");
      return { status: Number(lines.pop()), body: JSON.parse(lines.join("\n")) };
    };
    const first = await curl(ids.attempted);
    expect(first.status).toBe(200);
    expect(first.body.data.status).toBe("canceled");
    const again = await curl(ids.attempted);
    expect(again).toEqual(first);
    const charge = await curl(ids.charge);
    expect(charge.status).toBe(409);
    expect(charge.body.error.code).toBe("charge_not_cancelable");
  });

  it("every route of both dialects answers", async () => {
    const created = await call(
      "POST",
      "/payments",
      jsonHeaders(A),
      JSON.stringify({
        customerId: "c",
        provider: "p",
        amountSubtotal: 100,
        currency: "GBP",
        expiresAt: "2026-02-01T00:00:00Z",
      }),
    );
    expect(created.status).toBe(200);
    const id = ((await created.json()) as { data: { id: string } }).data.id;
    expect((await call("GET", `/payments/${id}`, A)).status).toBe(200);
    const list = (await (await call("GET", "/payments?limit=3", B)).json()) as {
      data: unknown[];
      has_more: boolean;
    };
    expect(list.data).toHaveLength(3);
    expect(list.has_more).toBe(true);
    expect((await call("GET", `/v1/payment-links/${id}`, B)).status).toBe(200);
    const dna = await call(
      "POST",
      "/v1/payment-links",
      jsonHeaders(B),
      JSON.stringify({
        amount: "5.00",
        currency: "GBP",
        terminalId: "t",
        customerName: "n",
        expirationDate: "2026-02-01T00:00:00Z",
      }),
    );
    expect(dna.status).toBe(200);
    const dnaId = ((await dna.json()) as { id: string }).id;
    const cancelled = await call("POST", `/v1/payment-links/${dnaId}/cancellation`, jsonHeaders(B));
    expect(((await cancelled.json()) as { status: string }).status).toBe("cancelled");
    expect((await call("POST", `/payments/${id}/cancel`, A)).status).toBe(200);
    expect((await call("GET", "/openapi.json")).status).toBe(200);
    expect((await call("GET", "/docs")).status).toBe(200);
    expect((await call("GET", "/docs/errors.md")).status).toBe(200);
    expect((await call("HEAD", `/payments/${id}`, A)).status).toBe(200);
  });

  it("every error status of dialect A", async () => {
    const code = async (response: Response) =>
      [response.status, ((await response.json()) as { error: { code: string } }).error.code] as const;
    expect(await code(await call("POST", "/payments", jsonHeaders(A), "{"))).toEqual([400, "body_invalid"]);
    expect(await code(await call("POST", "/payments", jsonHeaders(A), '{"x":1}'))).toEqual([
      400,
      "parameter_invalid",
    ]);
    expect(await code(await call("GET", "/payments/x"))).toEqual([401, "api_key_missing"]);
    expect(await code(await call("GET", "/payments/x", { "x-api-key": "nope" }))).toEqual([
      401,
      "api_key_invalid",
    ]);
    expect(
      await code(await call("POST", `/payments/${ids.pending}/cancel`, { "x-api-key": KEYS.ro })),
    ).toEqual([403, "key_not_permitted"]);
    expect(await code(await call("GET", "/payments/pay_missing", A))).toEqual([404, "resource_missing"]);
    expect(await code(await call("PUT", "/payments", A))).toEqual([405, "method_not_allowed"]);
    expect(await code(await call("POST", `/payments/${ids.paid}/cancel`, A))).toEqual([
      409,
      "payment_not_cancelable",
    ]);
    expect(await code(await call("POST", `/payments/${ids.charge}/cancel`, A))).toEqual([
      409,
      "charge_not_cancelable",
    ]);
    expect(await code(await call("POST", "/payments", jsonHeaders(A), "x".repeat(70_000)))).toEqual([
      413,
      "body_too_large",
    ]);
    expect(await code(await call("POST", "/payments", { ...A, "content-type": "text/plain" }, "{}"))).toEqual(
      [415, "content_type_unsupported"],
    );
    const idem = { ...jsonHeaders(A), "idempotency-key": "e2e-a" };
    await call("POST", `/payments/${ids.processing}/cancel`, idem, "{}");
    expect(await code(await call("POST", `/payments/${ids.processing}/cancel`, idem, "{ }"))).toEqual([
      422,
      "idempotency_key_reused",
    ]);
  });

  it("every error status of dialect B", async () => {
    const code = async (response: Response) =>
      [response.status, ((await response.json()) as { code: string }).code] as const;
    expect(await code(await call("POST", "/v1/payment-links", jsonHeaders(B), "[]"))).toEqual([
      400,
      "body_invalid",
    ]);
    expect(await code(await call("GET", `/v1/payment-links/${ids.pending}`, A))).toEqual([
      401,
      "api_key_missing",
    ]);
    expect(
      await code(
        await call("POST", `/v1/payment-links/${ids.pending}/cancellation`, {
          authorization: `Bearer ${KEYS.ro}`,
        }),
      ),
    ).toEqual([403, "key_not_permitted"]);
    expect(await code(await call("GET", `/v1/payment-links/${ids.charge}`, B))).toEqual([
      404,
      "resource_missing",
    ]);
    expect(await code(await call("GET", "/v1/payment-links", B))).toEqual([405, "method_not_allowed"]);
    expect(await code(await call("POST", "/v1/payment-links", jsonHeaders(B), "x".repeat(70_000)))).toEqual([
      413,
      "body_too_large",
    ]);
    expect(
      await code(await call("POST", "/v1/payment-links", { ...B, "content-type": "text/xml" }, "<a/>")),
    ).toEqual([415, "content_type_unsupported"]);
    expect(await code(await call("POST", `/v1/payment-links/${ids.expired}/cancellation`, B))).toEqual([
      422,
      "payment_not_cancelable",
    ]);
  });

  it("500 and 503 carry no internals", async () => {
    const boom = setup({
      authenticate: async () => {
        throw new Error("secret-host:5432");
      },
    });
    const store = createMemoryStore();
    const broken: MemoryStore = {
      ...store,
      get: async () => {
        throw new Error("disk I/O error /var/secret.db");
      },
    };
    const down = setup({ links: createPaymentLinks({ store: broken }) });
    const servers = [await serve({ app: boom.app, port: 0 }), await serve({ app: down.app, port: 0 })];
    try {
      const internal = await fetch(`${servers[0]!.url}/payments/x`, { headers: A });
      expect(internal.status).toBe(500);
      expect(await internal.text()).not.toContain("secret");
      const unavailable = await fetch(`${servers[1]!.url}/v1/payment-links/x`, { headers: B });
      expect(unavailable.status).toBe(503);
      expect(await unavailable.json()).toEqual({ code: "store_unavailable", message: expect.any(String) });
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }
  });

  it("replays idempotent POSTs over HTTP", async () => {
    const headers = { ...jsonHeaders(B), "idempotency-key": "e2e-b" };
    const body = JSON.stringify({
      amount: 3,
      currency: "JPY",
      terminalId: "t",
      customerName: "n",
      expirationDate: "2026-02-01T00:00:00Z",
    });
    const first = await call("POST", "/v1/payment-links", headers, body);
    const second = await call("POST", "/v1/payment-links", headers, body);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.text()).toBe(await first.text());
  });

  it("property over HTTP: random requests never answer 5xx and refusals change nothing", async () => {
    await fc.assert(
      fc.asyncProperty(requestArb, async (rawRequest) => {
        const request = toRequest(rawRequest, server.url);
        if (request === undefined) return;
        const before = await s.events();
        let response: Response;
        try {
          response = await fetch(request);
        } catch {
          // The client may refuse to send what it cannot express; nothing reached the server.
          return;
        }
        await checkResponse(rawRequest, response);
        if (response.status >= 400) expect(await s.events()).toEqual(before);
      }),
      { numRuns: 150 },
    );
  });

  it("close() lets a request in flight finish", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived!: () => void;
    const reached = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const slow = setup({
      authenticate: async () => {
        arrived();
        await gate;
        return { accountId: "acct_test", livemode: false, canWrite: true };
      },
    });
    const own = await serve({ app: slow.app, port: 0 });
    const inFlight = fetch(`${own.url}/payments`, { headers: A });
    await reached;
    const closed = own.close();
    release();
    expect((await inFlight).status).toBe(200);
    await closed;
    await expect(fetch(`${own.url}/payments`, { headers: A })).rejects.toThrow();
  });
});
