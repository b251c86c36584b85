import { DnaError, DnaPaymentLink, toDnaJson, toDnaStatus } from "@paylink/http";
import { describe, expect, it } from "vitest";
import { KEYS, SCOPE, SEED_004_FIELDS, setup } from "./helpers.js";

const bearer = { key: null, bearer: KEYS.rw } as const;

async function expectLink(response: Response) {
  expect(response.status).toBe(200);
  const text = await response.text();
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(DnaPaymentLink.safeParse(body).success).toBe(true);
  expect(Object.keys(body)).toEqual(SEED_004_FIELDS);
  return { body, text };
}

async function expectDnaError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const body = (await response.json()) as Record<string, unknown>;
  expect(DnaError.safeParse(body).success).toBe(true);
  expect(Object.keys(body)).toEqual(["code", "message"]);
  expect(body.code).toBe(code);
  return body;
}

const createBody = {
  amount: 1,
  currency: "GBP",
  invoiceId: "PL-1605200674803",
  terminalId: "4511a14f-61a3-4449-a1c1-7a314ee2374c",
  customerName: "Yermek",
  description: "For cappuccino",
  expirationDate: "2026-01-02T17:20:50.493Z",
};

describe("dialect B (DNA) — POST /v1/payment-links/{id}/cancellation", () => {
  it("cancels active, viewed and attempted links with exactly seed 004's fields", async () => {
    const s = setup();
    const ids = await s.seed();
    for (const state of ["pending", "viewed", "attempted"] as const) {
      const { body } = await expectLink(
        await s.send("POST", `/v1/payment-links/${ids[state]}/cancellation`, bearer),
      );
      expect(body.status).toBe("cancelled");
      expect(body.cancelledDate).toBe(s.clock.now().toISOString());
      expect(body.amount).toBe(12);
      expect(body.currency).toBe("GBP");
      if (state === "viewed") expect(body.viewedDate).not.toBeNull();
      if (state === "attempted") expect(body.attemptedDate).not.toBeNull();
    }
  });

  it("round-trips the seed's example: create with DNA fields, cancel, same fields back", async () => {
    const s = setup();
    const created = await expectLink(
      await s.send("POST", "/v1/payment-links", { ...bearer, json: createBody }),
    );
    expect(created.body).toMatchObject({
      amount: 1,
      currency: "GBP",
      invoiceId: "PL-1605200674803",
      terminalId: "4511a14f-61a3-4449-a1c1-7a314ee2374c",
      customerName: "Yermek",
      description: "For cappuccino",
      createdDate: "2026-01-01T00:00:00.000Z",
      expirationDate: "2026-01-02T17:20:50.493Z",
      viewedDate: null,
      attemptedDate: null,
      paidDate: null,
      cancelledDate: null,
      status: "active",
    });
    expect(created.text).toContain('"amount":1.00,');
    s.clock.advance(600_000);
    const id = created.body.id as string;
    const canceled = await expectLink(await s.send("POST", `/v1/payment-links/${id}/cancellation`, bearer));
    expect(canceled.body).toEqual({
      ...created.body,
      cancelledDate: "2026-01-01T00:10:00.000Z",
      status: "cancelled",
    });
    // The DNA fields live in metadata under reserved keys, visible in dialect A.
    const a = (await (await s.send("GET", `/payments/${id}`)).json()) as { data: Record<string, unknown> };
    expect(a.data).toMatchObject({
      customerId: "Yermek",
      provider: "dna",
      amountSubtotal: 100,
      metadata: {
        dna_invoice_id: "PL-1605200674803",
        dna_terminal_id: "4511a14f-61a3-4449-a1c1-7a314ee2374c",
        dna_customer_name: "Yermek",
      },
    });
  });

  it("cancelling a cancelled link answers 200 with the unchanged body and writes nothing", async () => {
    const s = setup();
    const ids = await s.seed();
    const first = await expectLink(
      await s.send("POST", `/v1/payment-links/${ids.pending}/cancellation`, bearer),
    );
    const before = await s.events();
    s.clock.advance(5000);
    const again = await expectLink(
      await s.send("POST", `/v1/payment-links/${ids.pending}/cancellation`, bearer),
    );
    expect(again.text).toBe(first.text);
    expect(await s.events()).toEqual(before);
  });

  it("refuses processing (DNA attempted with a payment in flight), paid and expired links with 422 {code, message}", async () => {
    const s = setup();
    const ids = await s.seed();
    const before = await s.events();
    for (const state of ["processing", "paid", "expired"] as const) {
      const body = await expectDnaError(
        await s.send("POST", `/v1/payment-links/${ids[state]}/cancellation`, bearer),
        422,
        "payment_not_cancelable",
      );
      expect(body.message).toMatch(state === "processing" ? /in progress/ : new RegExp(`is ${state}`));
    }
    expect(await s.events()).toEqual(before);
  });

  it("answers 404 for charges, unknown ids, other accounts; needs Bearer (x-api-key is not DNA's)", async () => {
    const s = setup();
    const ids = await s.seed();
    await expectDnaError(
      await s.send("POST", `/v1/payment-links/${ids.charge}/cancellation`, bearer),
      404,
      "resource_missing",
    );
    await expectDnaError(
      await s.send("GET", `/v1/payment-links/${ids.charge}`, bearer),
      404,
      "resource_missing",
    );
    await expectDnaError(await s.send("GET", "/v1/payment-links/69lXLdv9w", bearer), 404, "resource_missing");
    await expectDnaError(
      await s.send("GET", `/v1/payment-links/${ids.pending}`, { key: null, bearer: KEYS.other }),
      404,
      "resource_missing",
    );
    await expectDnaError(
      await s.send("GET", `/v1/payment-links/${ids.pending}`, { key: KEYS.rw }),
      401,
      "api_key_missing",
    );
    await expectDnaError(
      await s.send("GET", `/v1/payment-links/${ids.pending}`, { key: null, bearer: "nope" }),
      401,
      "api_key_invalid",
    );
    await expectDnaError(
      await s.send("POST", `/v1/payment-links/${ids.pending}/cancellation`, { key: null, bearer: KEYS.ro }),
      403,
      "key_not_permitted",
    );
    await expectDnaError(
      await s.send("DELETE", `/v1/payment-links/${ids.pending}`, bearer),
      405,
      "method_not_allowed",
    );
    await expectDnaError(await s.send("GET", "/v1/other", bearer), 404, "route_missing");
  });

  it("GET shows every state in DNA's words", async () => {
    const s = setup();
    const ids = await s.seed();
    const expected = {
      pending: "active",
      viewed: "viewed",
      attempted: "attempted",
      processing: "attempted",
      paid: "paid",
      canceled: "cancelled",
      expired: "expired",
    } as const;
    for (const [state, dna] of Object.entries(expected)) {
      const { body } = await expectLink(
        await s.send("GET", `/v1/payment-links/${ids[state as keyof typeof expected]}`, bearer),
      );
      expect(body.status).toBe(dna);
    }
    const paid = await expectLink(await s.send("GET", `/v1/payment-links/${ids.paid}`, bearer));
    expect(paid.body.paidDate).not.toBeNull();
    expect(toDnaStatus("failed")).toBe("expired");
  });
});

describe("dialect B — amounts", () => {
  it.each([
    [1999, "GBP", "19.99"],
    [5, "KWD", "0.005"],
    [500, "JPY", "500"],
    [100, "GBP", "1.00"],
    [Number.MAX_SAFE_INTEGER, "GBP", "90071992547409.91"],
  ])("writes %i minor units of %s as the exact literal %s", async (minor, currency, literal) => {
    const s = setup();
    const created = await s.links.create(SCOPE, {
      customerId: "c",
      provider: "p",
      amountSubtotal: minor,
      currency,
      expiresAt: new Date("2026-02-01T00:00:00Z"),
    });
    const text = toDnaJson(created._unsafeUnwrap());
    expect(text).toContain(`"amount":${literal},`);
    expect(JSON.parse(text).amount).toBe(Number(literal));
  });

  it.each([
    [12.34, "GBP", 1234],
    ["12.34", "GBP", 1234],
    [0.1, "GBP", 10],
    [1.005, "KWD", 1005],
    [500, "JPY", 500],
    [999999999999.99, "GBP", 99999999999999],
  ])("accepts amount %s %s as %i minor units", async (amount, currency, minor) => {
    const s = setup();
    const created = await expectLink(
      await s.send("POST", "/v1/payment-links", { ...bearer, json: { ...createBody, amount, currency } }),
    );
    const a = (await (await s.send("GET", `/payments/${created.body.id}`)).json()) as {
      data: { amountTotal: number };
    };
    expect(a.data.amountTotal).toBe(minor);
  });

  it.each([
    ["too many decimals", 1.001, "GBP"],
    ["decimals on JPY", 1.5, "JPY"],
    ["negative", -1, "GBP"],
    ["too large", 1e16, "GBP"],
    ["exponent string", "1e3", "GBP"],
    ["not a number", true, "GBP"],
    ["unknown currency", 1, "ABC"],
  ])("refuses %s with 400 parameter_invalid", async (_, amount, currency) => {
    const s = setup();
    await expectDnaError(
      await s.send("POST", "/v1/payment-links", { ...bearer, json: { ...createBody, amount, currency } }),
      400,
      "parameter_invalid",
    );
    expect(await s.events()).toEqual([]);
  });

  it("refuses missing mandatory DNA fields, unknown fields, a past expiry, bad JSON and other content types", async () => {
    const s = setup();
    for (const field of ["amount", "currency", "terminalId", "expirationDate", "customerName"]) {
      const body: Record<string, unknown> = { ...createBody };
      delete body[field];
      const error = await expectDnaError(
        await s.send("POST", "/v1/payment-links", { ...bearer, json: body }),
        400,
        "parameter_invalid",
      );
      expect(error.message).toContain(field);
    }
    await expectDnaError(
      await s.send("POST", "/v1/payment-links", {
        ...bearer,
        json: { ...createBody, transactionType: "SALE" },
      }),
      400,
      "parameter_invalid",
    );
    const past = await expectDnaError(
      await s.send("POST", "/v1/payment-links", {
        ...bearer,
        json: { ...createBody, expirationDate: "2020-01-01T00:00:00Z" },
      }),
      400,
      "parameter_invalid",
    );
    expect(past.message).toContain("expirationDate");
    await expectDnaError(
      await s.send("POST", "/v1/payment-links", {
        ...bearer,
        body: "{]",
        headers: { "content-type": "application/json" },
      }),
      400,
      "body_invalid",
    );
    await expectDnaError(
      await s.send("POST", "/v1/payment-links", {
        ...bearer,
        body: "x",
        headers: { "content-type": "text/plain" },
      }),
      415,
      "content_type_unsupported",
    );
    expect(await s.events()).toEqual([]);
  });
});

describe("dialect B — create refuses malformed text and a zero amount", () => {
  const broken = ["\ud800", "\udc00", "\ude00\ud83d", "Yermek \ud83d"];
  const fields = ["customerName", "description", "terminalId", "invoiceId"];
  const cases = broken.flatMap((bad) => fields.map((field) => [field, bad] as const));

  it.each(cases)(
    "a lone surrogate in %s (%j) is 400 parameter_invalid naming it, nothing written",
    async (field, bad) => {
      const s = setup();
      const error = await expectDnaError(
        await s.send("POST", "/v1/payment-links", { ...bearer, json: { ...createBody, [field]: bad } }),
        400,
        "parameter_invalid",
      );
      expect(error.message).toContain(`${field}: must be well-formed Unicode`);
      expect(await s.events()).toEqual([]);
    },
  );

  it("a customerName with emoji and surrogate pairs is accepted and read back unchanged", async () => {
    const s = setup();
    const text = { customerName: "Yermek 😀 \ud83d\udcb3", description: "For cappuccino ☕ 𝄞" };
    const created = await expectLink(
      await s.send("POST", "/v1/payment-links", { ...bearer, json: { ...createBody, ...text } }),
    );
    expect(created.body).toMatchObject(text);
    const got = await expectLink(await s.send("GET", `/v1/payment-links/${created.body.id}`, bearer));
    expect(got.body).toEqual(created.body);
  });

  it.each([0, "0", "0.00", 0.0, "0.000"])(
    "amount %j is 400 parameter_invalid naming amount: a link must collect a positive total",
    async (amount) => {
      const s = setup();
      const error = await expectDnaError(
        await s.send("POST", "/v1/payment-links", {
          ...bearer,
          json: { ...createBody, amount, currency: amount === "0.000" ? "KWD" : "GBP" },
        }),
        400,
        "parameter_invalid",
      );
      expect(error.message).toContain("amount: a payment link must collect a positive total");
      expect(await s.events()).toEqual([]);
    },
  );

  it("the smallest positive amount of each exponent is accepted", async () => {
    const s = setup();
    for (const [amount, currency] of [
      ["0.01", "GBP"],
      [1, "JPY"],
      ["0.001", "KWD"],
    ] as const) {
      await expectLink(
        await s.send("POST", "/v1/payment-links", { ...bearer, json: { ...createBody, amount, currency } }),
      );
    }
  });
});
