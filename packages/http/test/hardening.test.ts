/**
 * Findings of the security test of @paylink/http: two `Idempotency-Key` headers, JSON bodies with a
 * repeated key, and `X-Content-Type-Options: nosniff` on every response. Both through `app.fetch` and
 * over a real socket, where the two headers are really two.
 */
import { connect } from "node:net";
import { type ServerHandle, serve } from "@paylink/http";
import { sampleLinkInput } from "@paylink/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkResponse } from "./check.js";
import { ERROR_A_KEYS, KEYS, SCOPE, type Setup, type StateName, setup } from "./helpers.js";

const createBody = {
  customerId: "cus_1",
  provider: "stripe",
  amountSubtotal: 1000,
  currency: "GBP",
  expiresAt: "2026-01-05T00:00:00Z",
};
const dnaBody = {
  amount: 10,
  currency: "GBP",
  terminalId: "t",
  customerName: "Y",
  expirationDate: "2026-01-05T00:00:00Z",
};

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

/** Sends exact bytes on a socket and returns the status, head and (unchunked) body. */
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
      const body = rest.join("\r\n\r\n");
      const chunked = /transfer-encoding: chunked/i.test(head);
      resolve({
        status: Number(head.split(" ")[1]),
        head,
        body: chunked ? body.replace(/(^|\r\n)[0-9a-f]+\r\n/g, "").replace(/\r\n$/, "") : body,
      });
    });
    socket.on("error", reject);
    socket.write(request);
  });
}

/** The status of a payment, read through the API. */
const statusOf = async (id: string) =>
  ((await (await s.send("GET", `/payments/${id}`)).json()) as { data: { status: string } }).data.status;

describe("two Idempotency-Key headers", () => {
  it("are refused over a real socket with 400 idempotency_key_invalid, and the cancel does not run (A)", async () => {
    const events = (await s.events()).length;
    const response = await raw(
      `POST /payments/${ids.pending}/cancel HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEYS.rw}\r\n` +
        "Idempotency-Key: first\r\nIdempotency-Key: second\r\nConnection: close\r\n\r\n",
    );
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({
      success: false,
      error: {
        type: "invalid_request_error",
        code: "idempotency_key_invalid",
        message: "Only one Idempotency-Key header is allowed, and a key cannot contain a comma.",
        param: "Idempotency-Key",
        details: null,
        doc_url: "https://docs.example.com/paylink/docs/errors.md#idempotency_key_invalid",
      },
    });
    expect(await statusOf(ids.pending)).toBe("pending");
    expect(await s.events()).toHaveLength(events);
  });

  it("are refused over a real socket in DNA's format too, also when one of them is empty (B)", async () => {
    for (const second of ["other", ""]) {
      const response = await raw(
        `POST /v1/payment-links/${ids.viewed}/cancellation HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
          `Authorization: Bearer ${KEYS.rw}\r\nIdempotency-Key: one\r\nIdempotency-Key: ${second}\r\n` +
          "Connection: close\r\n\r\n",
      );
      expect(response.status, second).toBe(400);
      expect(JSON.parse(response.body)).toEqual({
        code: "idempotency_key_invalid",
        message: "Only one Idempotency-Key header is allowed, and a key cannot contain a comma.",
      });
    }
    expect(await statusOf(ids.viewed)).toBe("viewed");
  });

  it("are refused when a fetch Request carries them (Headers joins them with a comma), in both dialects", async () => {
    const headers = new Headers([
      ["x-api-key", KEYS.rw],
      ["content-type", "application/json"],
      ["idempotency-key", "a"],
      ["idempotency-key", "b"],
    ]);
    expect(headers.get("idempotency-key")).toBe("a, b");
    const a = await s.app.fetch(
      new Request("http://paylink.test/payments", {
        method: "POST",
        headers,
        body: JSON.stringify(createBody),
      }),
    );
    expect(a.status).toBe(400);
    const error = ((await a.json()) as { error: Record<string, unknown> }).error;
    expect(Object.keys(error)).toEqual(ERROR_A_KEYS);
    expect(error).toMatchObject({ code: "idempotency_key_invalid", param: "Idempotency-Key" });

    const bearer = new Headers([
      ["authorization", `Bearer ${KEYS.rw}`],
      ["idempotency-key", "a"],
      ["idempotency-key", "b"],
    ]);
    const b = await s.app.fetch(
      new Request(`http://paylink.test/v1/payment-links/${ids.attempted}/cancellation`, {
        method: "POST",
        headers: bearer,
      }),
    );
    expect(b.status).toBe(400);
    expect(((await b.json()) as { code: string }).code).toBe("idempotency_key_invalid");
    expect(await statusOf(ids.attempted)).toBe("attempted");
  });

  it("a single key with a comma is refused the same way: the server cannot tell it from two", async () => {
    const response = await s.send("POST", "/payments", {
      json: createBody,
      headers: { "idempotency-key": "order,1" },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "idempotency_key_invalid",
    );
  });

  it("one key of printable characters without a comma still works, spaces and punctuation included", async () => {
    const headers = { "idempotency-key": 'order 7/A;b=c:"d"~!' };
    const first = await s.send("POST", "/payments", { json: createBody, headers });
    expect(first.status).toBe(200);
    const again = await s.send("POST", "/payments", { json: createBody, headers });
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await first.text());
  });
});

describe("JSON bodies that repeat a key", () => {
  const refusedA = async (body: string, path = "/payments") => {
    const response = await s.send("POST", path, { body, headers: { "content-type": "application/json" } });
    expect(response.status, body).toBe(400);
    const error = ((await response.json()) as { error: Record<string, unknown> }).error;
    expect(error, body).toMatchObject({ type: "invalid_request_error", code: "body_invalid" });
    expect(String(error.message)).toMatch(/repeats a key/);
  };

  it("are refused with 400 body_invalid, at the top, nested, and written with escapes (A)", async () => {
    const link = await s.links.create(
      SCOPE,
      sampleLinkInput(s.clock.now(), { expiresAt: new Date(s.clock.now().getTime() + 86_400_000) }),
    );
    const id = link._unsafeUnwrap().id;
    const before = s.store.size();
    const valid = JSON.stringify(createBody).slice(1, -1);
    await refusedA(`{${valid},"amountSubtotal":1}`);
    await refusedA(`{"amountSubtotal":1,${valid}}`);
    await refusedA(`{${valid},"metadata":{"order":"A-1","order":"A-2"}}`);
    // "\u0061mountSubtotal" is "amountSubtotal": a filter that compares raw text would miss it.
    await refusedA(`{${valid},"\\u0061mountSubtotal":999999}`);
    await refusedA('{"a":1,"a":1}', `/payments/${id}/cancel`);
    expect(s.store.size()).toBe(before);
    expect(await statusOf(id)).toBe("pending");
  });

  it("are refused with 400 body_invalid in DNA's format (B)", async () => {
    const valid = JSON.stringify(dnaBody).slice(1, -1);
    const response = await s.send("POST", "/v1/payment-links", {
      key: null,
      bearer: KEYS.rw,
      body: `{${valid},"amount":0.01}`,
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      code: "body_invalid",
      message: "The request body repeats a key in one object; send each key once.",
    });
  });

  it("strings that merely look like repeated keys are accepted", async () => {
    const response = await s.send("POST", "/payments", {
      json: {
        ...createBody,
        description: '{"amountSubtotal":1,"amountSubtotal":2} \\" :',
        metadata: { a: "a:a" },
      },
    });
    expect(response.status).toBe(200);
  });
});

describe("X-Content-Type-Options: nosniff", () => {
  it("is on every response of the app: replies, errors, 404, 405, HEAD, the documentation routes", async () => {
    const json = { "content-type": "application/json" };
    const requests: [string, string, Parameters<Setup["send"]>[2]?][] = [
      ["GET", `/payments/${ids.pending}`],
      ["HEAD", `/payments/${ids.pending}`],
      ["GET", "/payments?limit=2"],
      ["POST", "/payments", { json: createBody }],
      ["POST", "/payments", { json: createBody, headers: { "idempotency-key": "nosniff-1" } }],
      ["POST", "/payments", { json: createBody, headers: { "idempotency-key": "nosniff-1" } }], // replay
      ["POST", `/payments/${ids.canceled}/cancel`],
      ["POST", `/payments/${ids.paid}/cancel`], // 409
      ["GET", `/v1/payment-links/${ids.pending}`, { key: null, bearer: KEYS.rw }],
      ["POST", "/v1/payment-links", { key: null, bearer: KEYS.rw, json: dnaBody }],
      ["POST", `/v1/payment-links/${ids.paid}/cancellation`, { key: null, bearer: KEYS.rw }], // 422
      ["GET", "/payments/pay_missing"], // 404 resource_missing
      ["GET", "/payments/x", { key: null }], // 401
      ["GET", "/payments/x", { key: "sk_test_wrong" }], // 401
      ["POST", "/payments", { key: KEYS.ro, json: createBody }], // 403
      ["POST", "/payments", { body: "{", headers: json }], // 400 body_invalid
      ["POST", "/payments", { body: "x=1", headers: { "content-type": "text/plain" } }], // 415
      ["POST", "/payments", { body: `{"d":"${"x".repeat(70_000)}"}`, headers: json }], // 413
      ["GET", "/nowhere"], // 404 route_missing, dialect A
      ["GET", "/v1/nowhere"], // 404 route_missing, dialect B
      ["DELETE", "/payments"], // 405
      ["GET", "/openapi.json", { key: null }],
      ["HEAD", "/openapi.json", { key: null }],
      ["GET", "/docs", { key: null }],
      ["GET", "/docs/errors.md", { key: null }],
    ];
    const statuses = new Set<number>();
    for (const [method, path, init] of requests) {
      const response = await s.send(method, path, init);
      statuses.add(response.status);
      expect(response.headers.get("x-content-type-options"), `${method} ${path} → ${response.status}`).toBe(
        "nosniff",
      );
      await checkResponse({ method, path, headers: [], body: undefined }, response);
    }
    expect([...statuses].sort()).toEqual([200, 400, 401, 403, 404, 405, 409, 413, 415, 422]);
  });

  it("is on the 500 of a failing authenticate and on responses over a real socket", async () => {
    const failing = setup({
      authenticate: () => Promise.reject(new Error("directory down")),
    });
    const response = await failing.send("GET", "/payments/pay_1");
    expect(response.status).toBe(500);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");

    const overHttp = await raw(
      `GET /payments/${ids.pending} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEYS.rw}\r\nConnection: close\r\n\r\n`,
    );
    expect(overHttp.status).toBe(200);
    expect(overHttp.head).toMatch(/^x-content-type-options: nosniff$/im);
  });
});
