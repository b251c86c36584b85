import { ErrorA, PaymentA, PaymentEnvelopeA, PaymentListA } from "@paylink/http";
import { describe, expect, it } from "vitest";
import { DOCS, ERROR_A_KEYS, KEYS, SCOPE, SEED_000_FIELDS, type Setup, setup } from "./helpers.js";

async function expectError(response: Response, status: number, code: string, param?: string | null) {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await response.json()) as { success: boolean; error: Record<string, unknown> };
  expect(ErrorA.safeParse(body).success).toBe(true);
  expect(Object.keys(body)).toEqual(["success", "error"]);
  expect(Object.keys(body.error)).toEqual(ERROR_A_KEYS);
  expect(body.success).toBe(false);
  expect(body.error.code).toBe(code);
  expect(body.error.doc_url).toBe(`${DOCS}/docs/errors.md#${code}`);
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

async function expectPayment(response: Response) {
  expect(response.status).toBe(200);
  const body = (await response.json()) as { success: true; data: Record<string, unknown> };
  expect(PaymentEnvelopeA.safeParse(body).success).toBe(true);
  expect(Object.keys(body.data)).toEqual(SEED_000_FIELDS);
  return body.data;
}

describe("dialect A — POST /payments/{id}/cancel", () => {
  let s: Setup;
  let ids: Awaited<ReturnType<Setup["seed"]>>;
  const fresh = async () => {
    s = setup();
    ids = await s.seed();
  };

  it("cancels a pending, viewed or attempted link with exactly the seed's fields", async () => {
    await fresh();
    for (const state of ["pending", "viewed", "attempted"] as const) {
      const data = await expectPayment(await s.send("POST", `/payments/${ids[state]}/cancel`));
      expect(data.status).toBe("canceled");
      expect(data.id).toBe(ids[state]);
      expect(data).toMatchObject({ object: "payment", livemode: false, amountTotal: 1200, currency: "GBP" });
      expect(data).not.toHaveProperty("canceledAt");
    }
  });

  it("canceling a canceled link is a no-op: 200, same body, no event", async () => {
    await fresh();
    const first = await expectPayment(await s.send("POST", `/payments/${ids.pending}/cancel`));
    const before = await s.events();
    s.clock.advance(60_000);
    const again = await expectPayment(await s.send("POST", `/payments/${ids.pending}/cancel`));
    expect(again).toEqual(first);
    expect(await s.events()).toEqual(before);
    const seeded = await expectPayment(await s.send("POST", `/payments/${ids.canceled}/cancel`));
    expect(seeded.status).toBe("canceled");
  });

  it("refuses processing, paid and expired links with 409 payment_not_cancelable and details.status", async () => {
    await fresh();
    const before = await s.events();
    for (const state of ["processing", "paid", "expired"] as const) {
      const error = await expectError(
        await s.send("POST", `/payments/${ids[state]}/cancel`),
        409,
        "payment_not_cancelable",
        "id",
      );
      expect(error.type).toBe("invalid_state_error");
      expect(error.details).toEqual({ status: state });
    }
    expect(await s.events()).toEqual(before);
  });

  it("refuses a charge with 409 charge_not_cancelable", async () => {
    await fresh();
    const error = await expectError(
      await s.send("POST", `/payments/${ids.charge}/cancel`),
      409,
      "charge_not_cancelable",
    );
    expect(error.type).toBe("invalid_state_error");
  });

  it("answers 404 resource_missing for unknown ids and for other accounts or modes", async () => {
    await fresh();
    await expectError(await s.send("POST", "/payments/pay_nope/cancel"), 404, "resource_missing", "id");
    await expectError(
      await s.send("POST", `/payments/${ids.pending}/cancel`, { key: KEYS.other }),
      404,
      "resource_missing",
      "id",
    );
    await expectError(
      await s.send("POST", `/payments/${ids.pending}/cancel`, { key: KEYS.live }),
      404,
      "resource_missing",
    );
    expect(
      (await s.links.get({ accountId: "acct_test", livemode: false }, ids.pending))._unsafeUnwrap().status,
    ).toBe("pending");
  });

  it("authenticates with x-api-key or Bearer; 401 without or with a wrong key; 403 for a read-only key", async () => {
    await fresh();
    await expectError(
      await s.send("POST", `/payments/${ids.pending}/cancel`, { key: null }),
      401,
      "api_key_missing",
    );
    await expectError(
      await s.send("POST", `/payments/${ids.pending}/cancel`, { key: "sk_test_wrong" }),
      401,
      "api_key_invalid",
    );
    await expectError(
      await s.send("POST", `/payments/${ids.pending}/cancel`, { headers: { authorization: "Basic abc" } }),
      401,
      "api_key_invalid",
    );
    await expectError(
      await s.send("POST", `/payments/${ids.pending}/cancel`, {
        headers: { authorization: `Bearer ${KEYS.rw}`, "x-api-key": KEYS.ro },
      }),
      401,
      "api_key_invalid",
    );
    const forbidden = await expectError(
      await s.send("POST", `/payments/${ids.pending}/cancel`, { key: KEYS.ro }),
      403,
      "key_not_permitted",
    );
    expect(forbidden.type).toBe("permission_error");
    expect(
      (await expectPayment(await s.send("GET", `/payments/${ids.pending}`, { key: KEYS.ro }))).status,
    ).toBe("pending");
    const data = await expectPayment(
      await s.send("POST", `/payments/${ids.pending}/cancel`, { bearer: KEYS.rw }),
    );
    expect(data.status).toBe("canceled");
  });

  it("accepts the seed's literal request: POST with no body and no content type", async () => {
    await fresh();
    const response = await s.app.fetch(
      new Request(`http://x/payments/${ids.viewed}/cancel`, {
        method: "POST",
        headers: { "x-api-key": KEYS.rw },
      }),
    );
    expect((await expectPayment(response)).status).toBe("canceled");
  });

  it("accepts an empty JSON object body; refuses fields, non-objects and other content types", async () => {
    await fresh();
    expect(
      (await expectPayment(await s.send("POST", `/payments/${ids.pending}/cancel`, { json: {} }))).status,
    ).toBe("canceled");
    await expectError(
      await s.send("POST", `/payments/${ids.viewed}/cancel`, { json: { reason: "x" } }),
      400,
      "parameter_invalid",
      "reason",
    );
    await expectError(
      await s.send("POST", `/payments/${ids.viewed}/cancel`, { json: [1] }),
      400,
      "body_invalid",
    );
    await expectError(
      await s.send("POST", `/payments/${ids.viewed}/cancel`, {
        body: "reason=x",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      }),
      415,
      "content_type_unsupported",
    );
    expect(
      (await s.links.get({ accountId: "acct_test", livemode: false }, ids.viewed))._unsafeUnwrap().status,
    ).toBe("viewed");
  });
});

describe("dialect A — create, get, list", () => {
  const input = {
    customerId: "cus_9",
    provider: "stripe",
    amountSubtotal: 1999,
    taxAmount: 1,
    currency: "EUR",
    description: "Two coffees",
    metadata: { order: "B-2", rush: true },
    expiresAt: "2026-01-05T00:00:00Z",
  };

  it("POST /payments creates a pending link with the seed's fields", async () => {
    const s = setup();
    const data = await expectPayment(await s.send("POST", "/payments", { json: input }));
    expect(data).toMatchObject({
      kind: "link",
      status: "pending",
      amountSubtotal: 1999,
      taxAmount: 1,
      amountTotal: 2000,
      currency: "EUR",
      metadata: { order: "B-2", rush: true },
      expiresAt: "2026-01-05T00:00:00.000Z",
      livemode: false,
      object: "payment",
      url: `https://pay.example/${data.id}`,
    });
    const got = await expectPayment(await s.send("GET", `/payments/${data.id}`));
    expect(got).toEqual(data);
    const charge = await expectPayment(
      await s.send("POST", "/payments", {
        json: { kind: "charge", customerId: "c", provider: "p", amountSubtotal: 5, currency: "JPY" },
      }),
    );
    expect(charge).toMatchObject({ kind: "charge", expiresAt: null, taxAmount: 0 });
  });

  it.each([
    ["fractional amount", { amountSubtotal: 10.5 }, "amountSubtotal"],
    ["unsafe amount", { amountSubtotal: 2 ** 53 }, "amountSubtotal"],
    ["negative amount", { taxAmount: -1 }, "taxAmount"],
    ["amount as string", { amountSubtotal: "1000" }, "amountSubtotal"],
    ["unknown currency", { currency: "XYZ" }, "currency"],
    ["lower-case currency", { currency: "eur" }, "currency"],
    ["unknown field", { amount: 5 }, "amount"],
    ["bad date", { expiresAt: "tomorrow" }, "expiresAt"],
    ["past expiry", { expiresAt: "2020-01-01T00:00:00Z" }, "expiresAt"],
    ["metadata too long", { metadata: { k: "x".repeat(501) } }, "metadata.k"],
    ["sum overflows", { amountSubtotal: Number.MAX_SAFE_INTEGER, taxAmount: 1 }, "taxAmount"],
  ])("refuses %s with 400 parameter_invalid", async (_, patch, param) => {
    const s = setup();
    const body = await expectError(
      await s.send("POST", "/payments", { json: { ...input, ...patch } }),
      400,
      "parameter_invalid",
      param,
    );
    expect(body.type).toBe("invalid_request_error");
    expect(await s.events()).toEqual([]);
  });

  it("refuses a missing field, an empty body and invalid JSON", async () => {
    const s = setup();
    const { customerId: _, ...rest } = input;
    await expectError(
      await s.send("POST", "/payments", { json: rest }),
      400,
      "parameter_invalid",
      "customerId",
    );
    await expectError(await s.send("POST", "/payments"), 400, "body_invalid");
    await expectError(
      await s.send("POST", "/payments", { body: "{", headers: { "content-type": "application/json" } }),
      400,
      "body_invalid",
    );
    await expectError(
      await s.send("POST", "/payments", { body: JSON.stringify(input) }),
      415,
      "content_type_unsupported",
    );
    expect(await s.events()).toEqual([]);
  });

  it("GET /payments pages newest first with has_more and starting_after", async () => {
    const s = setup();
    const created: string[] = [];
    for (let i = 0; i < 5; i++) {
      s.clock.advance(1000);
      created.push((await expectPayment(await s.send("POST", "/payments", { json: input }))).id as string);
    }
    const page = async (query: string) => {
      const response = await s.send("GET", `/payments${query}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { data: { id: string }[]; has_more: boolean };
      expect(PaymentListA.safeParse(body).success).toBe(true);
      return body;
    };
    const first = await page("?limit=2");
    expect(first.data.map((p) => p.id)).toEqual([created[4], created[3]]);
    expect(first.has_more).toBe(true);
    const second = await page(`?limit=2&starting_after=${first.data[1]!.id}`);
    expect(second.data.map((p) => p.id)).toEqual([created[2], created[1]]);
    const third = await page(`?limit=2&starting_after=${second.data[1]!.id}`);
    expect(third.data.map((p) => p.id)).toEqual([created[0]]);
    expect(third.has_more).toBe(false);
    expect((await page("")).data).toHaveLength(5);
    expect((await page("?limit=100")).has_more).toBe(false);
    expect((await page("?limit=5")).has_more).toBe(false);
    expect((await page("?starting_after=pay_unknown")).data).toEqual([]);
    for (const bad of ["?limit=0", "?limit=101", "?limit=abc", "?limit=1.5", "?limit=1&limit=2", "?foo=1"]) {
      await expectError(await s.send("GET", `/payments${bad}`), 400, "parameter_invalid");
    }
    // Other accounts see nothing.
    const other = await s.send("GET", "/payments", { key: KEYS.other });
    expect(((await other.json()) as { data: unknown[] }).data).toEqual([]);
  });

  it("GET /payments/{id} of a charge works in dialect A; response matches the strict schema", async () => {
    const s = setup();
    const ids = await s.seed();
    const data = await expectPayment(await s.send("GET", `/payments/${ids.charge}`));
    expect(PaymentA.parse(data).kind).toBe("charge");
  });

  it("answers 405 with Allow for a known path and another method, 404 route_missing otherwise", async () => {
    const s = setup();
    const response = await s.send("DELETE", "/payments/pay_1");
    await expectError(response, 405, "method_not_allowed");
    expect(response.headers.get("allow")).toBe("GET, HEAD");
    expect((await s.send("PUT", "/payments")).headers.get("allow")).toBe("POST, GET, HEAD");
    await expectError(await s.send("GET", "/nothing/here"), 404, "route_missing");
    await expectError(await s.send("GET", "/payments/pay_1/cancel/extra"), 404, "route_missing");
  });

  it("HEAD is answered as GET where GET exists, 405 elsewhere; dialect B's paths answer 405 in dialect B", async () => {
    const s = setup();
    const ids = await s.seed();
    const head = await s.send("HEAD", `/payments/${ids.pending}`);
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect((await s.send("HEAD", "/openapi.json", { key: null })).status).toBe(200);
    const cancel = await s.send("HEAD", `/payments/${ids.pending}/cancel`);
    expect(cancel.status).toBe(405);
    expect(cancel.headers.get("allow")).toBe("POST");
    const get = await s.send("GET", `/payments/${ids.pending}/cancel`);
    await expectError(get, 405, "method_not_allowed");
    expect(get.headers.get("allow")).toBe("POST");
    const b = await s.send("PATCH", `/v1/payment-links/${ids.pending}/cancellation`, { bearer: KEYS.rw });
    expect(b.status).toBe(405);
    expect(b.headers.get("allow")).toBe("POST");
    expect(await b.json()).toEqual({
      code: "method_not_allowed",
      message: "PATCH is not allowed here; use POST.",
    });
    // Nothing was canceled on the way.
    expect((await s.links.get(SCOPE, ids.pending))._unsafeUnwrap().status).toBe("pending");
  });
});

describe("dialect A — create refuses malformed text and zero-total links", () => {
  const input = {
    customerId: "cus_9",
    provider: "stripe",
    amountSubtotal: 1999,
    taxAmount: 1,
    currency: "EUR",
    description: "Two coffees",
    metadata: { order: "B-2" },
    expiresAt: "2026-01-05T00:00:00Z",
  };
  const broken = ["\ud800", "\udfff", "\ude00\ud83d", "coffee \ud83d"];
  const cases = broken.flatMap((bad) => [
    [{ customerId: `cus_${bad}` }, "customerId"],
    [{ provider: bad }, "provider"],
    [{ description: bad }, "description"],
    [{ metadata: { order: bad } }, "metadata.order"],
    [{ metadata: { [bad]: "x" } }, `metadata.${bad}`],
  ]) as Array<[Record<string, unknown>, string]>;

  it.each(cases)(
    "a lone surrogate (%j) is 400 parameter_invalid with param %j, nothing written",
    async (patch, param) => {
      const s = setup();
      const body = await expectError(
        await s.send("POST", "/payments", { json: { ...input, ...patch } }),
        400,
        "parameter_invalid",
        param,
      );
      expect(body.message).toContain("well-formed Unicode");
      expect(await s.events()).toEqual([]);
    },
  );

  it("a retried request with a lone surrogate gets the same 400 every time, never 503", async () => {
    const s = setup();
    for (let attempt = 0; attempt < 3; attempt++) {
      await expectError(
        await s.send("POST", "/payments", {
          json: { ...input, description: "\ud800" },
          headers: { "idempotency-key": `retry-${attempt}` },
        }),
        400,
        "parameter_invalid",
        "description",
      );
    }
    expect(await s.events()).toEqual([]);
  });

  it("well-formed astral text (emoji, surrogate pairs) is accepted and read back unchanged", async () => {
    const s = setup();
    const text = {
      customerId: "cus_😀",
      description: "Flat white ☕ for 👩🏽‍💻 𝄞 \ud83d\udcb3",
      metadata: { "🎫": "🇬🇧 é" },
    };
    const created = await expectPayment(await s.send("POST", "/payments", { json: { ...input, ...text } }));
    expect(created).toMatchObject(text);
    expect(await expectPayment(await s.send("GET", `/payments/${created.id}`))).toEqual(created);
  });

  it("a link with a zero total is 400 parameter_invalid on amountSubtotal, nothing written", async () => {
    const s = setup();
    for (const amounts of [
      { amountSubtotal: 0, taxAmount: 0 },
      { amountSubtotal: 0, taxAmount: undefined },
    ]) {
      const body = await expectError(
        await s.send("POST", "/payments", { json: { ...input, kind: "link", ...amounts } }),
        400,
        "parameter_invalid",
        "amountSubtotal",
      );
      expect(body.message).toContain("a payment link must collect a positive total");
    }
    expect(await s.events()).toEqual([]);
  });

  it("a link whose total is only tax, and a zero charge, are accepted", async () => {
    const s = setup();
    const taxOnly = await expectPayment(
      await s.send("POST", "/payments", { json: { ...input, amountSubtotal: 0, taxAmount: 5 } }),
    );
    expect(taxOnly.amountTotal).toBe(5);
    const charge = await expectPayment(
      await s.send("POST", "/payments", {
        json: { kind: "charge", customerId: "c", provider: "p", amountSubtotal: 0, currency: "JPY" },
      }),
    );
    expect(charge).toMatchObject({ kind: "charge", amountTotal: 0 });
  });
});
