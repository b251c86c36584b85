/**
 * The tests every "Paylink mounted inside an existing app" example passes (Express, Fastify): the host's
 * routes keep working, and under the prefix Paylink answers byte for byte what it answers on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/** A running host application with Paylink mounted under a prefix. */
export interface MountedHost {
  /** `http://127.0.0.1:<port>` of the host. */
  readonly base: string;
  /** The Paylink app itself, to compare what the mount forwards with what Paylink answers alone. */
  readonly paylink: { fetch(request: Request): Response | Promise<Response> };
  /** A pending payment link and a charge seeded by the example. */
  readonly ids: { readonly link: string; readonly charge: string };
  close(): Promise<void>;
}

/** Options of {@link mountedPaylinkSuite}. */
export interface MountedSuiteOptions {
  /** The host framework, e.g. "an Express 5 app". */
  readonly name: string;
  /** Where Paylink is mounted, e.g. `/paylink`. */
  readonly prefix: string;
  /** The example's API key. */
  readonly apiKey: string;
  /** Starts the host on a free port. */
  start(): Promise<MountedHost>;
  /** Asserts that `response` is the host's own 404, not Paylink's envelope. */
  expectHostNotFound(response: Response): void | Promise<void>;
}

/** Registers the shared tests of a mounting example. */
export function mountedPaylinkSuite(options: MountedSuiteOptions): void {
  const { prefix: PREFIX, apiKey: API_KEY } = options;
  let host: MountedHost;
  const base = () => host.base;
  beforeAll(async () => {
    host = await options.start();
  });
  afterAll(() => host.close());

  const key = { "x-api-key": API_KEY };
  const post = (path: string, init: { headers?: Record<string, string>; body?: string } = {}) =>
    fetch(`${base()}${path}`, { method: "POST", headers: { ...key, ...init.headers }, body: init.body });
  /** The same request straight to the Paylink app, without the host in between. */
  const direct = (path: string, init: { method?: string; headers?: Record<string, string> } = {}) =>
    host.paylink.fetch(
      new Request(`http://paylink.local${path}`, {
        method: init.method ?? "POST",
        headers: { ...key, ...init.headers },
      }),
    );

  describe(`Paylink mounted under ${PREFIX} in ${options.name}`, () => {
    it("the host's own route still answers", async () => {
      const response = await fetch(`${base()}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: "ok" });
    });

    it("cancels a link through the prefix, then a second cancel is a 200 no-op with the same body", async () => {
      const first = await post(`${PREFIX}/payments/${host.ids.link}/cancel`);
      expect(first.status).toBe(200);
      expect(first.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(first.headers.get("cache-control")).toBe("no-store");
      const text = await first.text();
      const body = JSON.parse(text) as { success: boolean; data: { id: string; status: string } };
      expect(body.success).toBe(true);
      expect(body.data).toMatchObject({ id: host.ids.link, status: "canceled" });

      const again = await post(`${PREFIX}/payments/${host.ids.link}/cancel`);
      expect(again.status).toBe(200);
      expect(await again.text()).toBe(text);

      // Byte for byte what the Paylink app answers on its own (a third, equally no-op, cancel).
      const alone = await direct(`/payments/${host.ids.link}/cancel`);
      expect(alone.status).toBe(200);
      expect(await alone.text()).toBe(text);
      expect(again.headers.get("content-type")).toBe(alone.headers.get("content-type"));
      expect(again.headers.get("cache-control")).toBe(alone.headers.get("cache-control"));
    });

    it("refuses to cancel a charge with 409 in dialect A's envelope, doc_url under the prefix", async () => {
      const response = await post(`${PREFIX}/payments/${host.ids.charge}/cancel`);
      expect(response.status).toBe(409);
      const body = (await response.json()) as { success: boolean; error: Record<string, unknown> };
      expect(body.success).toBe(false);
      expect(Object.keys(body.error)).toEqual(["type", "code", "message", "param", "details", "doc_url"]);
      expect(body.error).toMatchObject({
        type: "invalid_state_error",
        code: "charge_not_cancelable",
        param: "id",
        doc_url: `${PREFIX}/docs/errors.md#charge_not_cancelable`,
      });
      const docs = await fetch(`${base()}${PREFIX}/docs/errors.md`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toContain("### charge_not_cancelable");
    });

    it("passes the raw body through: create, then the same Idempotency-Key replays, another body is refused", async () => {
      const body = JSON.stringify({
        customerId: "cus_9",
        provider: "stripe",
        amountSubtotal: 2500,
        currency: "EUR",
        expiresAt: "2099-01-01T00:00:00.000Z",
      });
      const headers = { "content-type": "application/json", "idempotency-key": `${options.name}-order-1` };
      const created = await post(`${PREFIX}/payments`, { headers, body });
      expect(created.status).toBe(200);
      const text = await created.text();
      expect(JSON.parse(text).data).toMatchObject({ status: "pending", amountTotal: 2500, currency: "EUR" });
      const replay = await post(`${PREFIX}/payments`, { headers, body });
      expect(replay.status).toBe(200);
      expect(replay.headers.get("idempotent-replayed")).toBe("true");
      expect(await replay.text()).toBe(text);
      const other = await post(`${PREFIX}/payments`, { headers, body: body.replace("2500", "2600") });
      expect(other.status).toBe(422);
      expect(((await other.json()) as { error: { code: string } }).error.code).toBe("idempotency_key_reused");
    });

    it("dialect B works through the prefix too", async () => {
      const response = await fetch(`${base()}${PREFIX}/v1/payment-links/${host.ids.charge}/cancellation`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ code: "resource_missing", message: "No such payment link." });
    });

    it("Paylink's own limits and errors come back unchanged: 413, 401, unknown routes", async () => {
      const large = await post(`${PREFIX}/payments`, {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ description: "x".repeat(70_000) }),
      });
      expect(large.status).toBe(413);
      expect(((await large.json()) as { error: { code: string } }).error.code).toBe("body_too_large");

      const anonymous = await fetch(`${base()}${PREFIX}/payments/${host.ids.link}`);
      expect(anonymous.status).toBe(401);
      expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe("api_key_missing");

      const unknown = await fetch(`${base()}${PREFIX}/nowhere`);
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("route_missing");

      // Outside the prefix, the host answers (its own 404, not Paylink's envelope).
      const host404 = await fetch(`${base()}/payments/${host.ids.link}`);
      expect(host404.status).toBe(404);
      await options.expectHostNotFound(host404);
    });

    it("serves the API reference and the OpenAPI document under the prefix", async () => {
      const openapi = await fetch(`${base()}${PREFIX}/openapi.json`);
      expect(openapi.status).toBe(200);
      const document = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
      expect(document.openapi).toBe("3.1.0");
      expect(Object.keys(document.paths)).toContain("/payments/{id}/cancel");
      const page = await fetch(`${base()}${PREFIX}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    });

    it("a bodiless POST without Content-Type reaches Paylink; HEAD answers no body", async () => {
      const bare = await fetch(`${base()}${PREFIX}/payments/${host.ids.link}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(bare.status).toBe(200);
      const head = await fetch(`${base()}${PREFIX}/openapi.json`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe("");
    });

    it("the prefix alone goes to Paylink (as `/`), a longer name that starts like it does not", async () => {
      for (const path of [PREFIX, `${PREFIX}/`, `${PREFIX}?x=1`]) {
        const response = await fetch(`${base()}${path}`, { headers: key });
        expect(response.status, path).toBe(404);
        expect(((await response.json()) as { error: { code: string } }).error.code, path).toBe(
          "route_missing",
        );
      }
      const response = await fetch(`${base()}${PREFIX}x/payments`, { headers: key });
      expect(response.status).toBe(404);
      await options.expectHostNotFound(response);
    });

    it("the host's JSON body parser still serves its own routes", async () => {
      const response = await fetch(`${base()}/orders`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sku: "cappuccino", quantity: 2 }),
      });
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ received: { sku: "cappuccino", quantity: 2 } });
    });
  });
}
