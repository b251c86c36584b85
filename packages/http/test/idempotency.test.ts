import { createPaymentLinks, type PaymentLinks, type PaymentStore } from "@paylink/core";
import { IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_RETENTION_MS } from "@paylink/http";
import { describe, expect, it } from "vitest";
import { fingerprintOf } from "../src/idempotency.js";
import { KEYS, SCOPE, setup } from "./helpers.js";

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

describe("Idempotency-Key", () => {
  it("replays the first response of a create (A) instead of creating twice", async () => {
    const s = setup();
    const headers = { "idempotency-key": "key-1" };
    const first = await s.send("POST", "/payments", { json: createBody, headers });
    const firstText = await first.text();
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    s.clock.advance(60_000);
    const second = await s.send("POST", "/payments", { json: createBody, headers });
    expect(second.status).toBe(200);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(await second.text()).toBe(firstText);
    expect(s.store.size()).toBe(1);
    // Without a key, a second create is a second payment.
    await s.send("POST", "/payments", { json: createBody });
    expect(s.store.size()).toBe(2);
  });

  it("replays in dialect B too, and stored 4xx answers as well", async () => {
    const s = setup();
    const ids = await s.seed();
    const headers = { "idempotency-key": "dna-1" };
    const bearer = { key: null, bearer: KEYS.rw };
    const first = await s.send("POST", "/v1/payment-links", { ...bearer, json: dnaBody, headers });
    const second = await s.send("POST", "/v1/payment-links", { ...bearer, json: dnaBody, headers });
    expect(await second.text()).toBe(await first.text());
    expect(second.headers.get("idempotent-replayed")).toBe("true");

    const paidHeaders = { "idempotency-key": "paid-1" };
    const refused = await s.send("POST", `/v1/payment-links/${ids.paid}/cancellation`, {
      ...bearer,
      headers: paidHeaders,
    });
    expect(refused.status).toBe(422);
    const replay = await s.send("POST", `/v1/payment-links/${ids.paid}/cancellation`, {
      ...bearer,
      headers: paidHeaders,
    });
    expect(replay.status).toBe(422);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
  });

  it("refuses the same key with another body or path: 422 idempotency_key_reused in each dialect", async () => {
    const s = setup();
    const ids = await s.seed();
    const headers = { "idempotency-key": "key-2" };
    await s.send("POST", "/payments", { json: createBody, headers });
    const other = await s.send("POST", "/payments", { json: { ...createBody, amountSubtotal: 1 }, headers });
    expect(other.status).toBe(422);
    const body = (await other.json()) as { error: { code: string; type: string; param: string } };
    expect(body.error).toMatchObject({
      code: "idempotency_key_reused",
      type: "invalid_request_error",
      param: "Idempotency-Key",
    });
    const otherPath = await s.send("POST", `/payments/${ids.pending}/cancel`, { headers });
    expect(otherPath.status).toBe(422);
    const dna = await s.send("POST", `/v1/payment-links/${ids.pending}/cancellation`, {
      key: null,
      bearer: KEYS.rw,
      headers,
    });
    expect(dna.status).toBe(422);
    expect(await dna.json()).toEqual({ code: "idempotency_key_reused", message: expect.any(String) });
    // Nothing was canceled by the refused requests.
    expect((await s.links.get(SCOPE, ids.pending))._unsafeUnwrap().status).toBe("pending");
  });

  it("keys are per account and mode", async () => {
    const s = setup();
    const headers = { "idempotency-key": "shared" };
    await s.send("POST", "/payments", { json: createBody, headers });
    const other = await s.send("POST", "/payments", { json: createBody, headers, key: KEYS.other });
    expect(other.status).toBe(200);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    expect(s.store.size()).toBe(2);
  });

  it("answers 409 idempotency_key_in_use while the first request runs", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const s = setup();
    const ids = await s.seed();
    const slow: PaymentLinks = {
      ...s.links,
      cancel: (scope, id) => {
        const result = s.links.cancel(scope, id);
        return result.map(async (value) => {
          await gate;
          return value;
        });
      },
    };
    const app = setup({ links: slow, idempotency: s.store, clock: s.clock });
    const headers = { "idempotency-key": "slow" };
    const first = app.send("POST", `/payments/${ids.pending}/cancel`, { headers });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await app.send("POST", `/payments/${ids.pending}/cancel`, { headers });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe("idempotency_key_in_use");
    release();
    expect((await first).status).toBe(200);
    const third = await app.send("POST", `/payments/${ids.pending}/cancel`, { headers });
    expect(third.status).toBe(200);
    expect(third.headers.get("idempotent-replayed")).toBe("true");
  });

  it("after a crash between a create's write and its answer, the retry replays the committed create", async () => {
    const s = setup();
    // The process "dies" right after the command: the transport never gets to store the answer.
    const crashing = setup({
      links: s.links,
      clock: s.clock,
      idempotency: { ...s.store, completeIdempotencyKey: () => Promise.reject(new Error("killed")) },
    });
    const headers = { "idempotency-key": "crash-after-write" };
    const first = await crashing.send("POST", "/payments", { json: createBody, headers });
    expect(first.status).toBe(200);
    const firstText = await first.text();
    // At once, within the lease: the answer was written with the payment, so it is replayed.
    const retry = await s.send("POST", "/payments", { json: createBody, headers });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(await retry.text()).toBe(firstText);
    expect(s.store.size()).toBe(1);

    // The same for a cancel, in dialect B.
    const ids = await s.seed();
    const bearer = { key: null, bearer: KEYS.rw, headers: { "idempotency-key": "crash-cancel" } };
    const path = `/v1/payment-links/${ids.pending}/cancellation`;
    const canceled = await crashing.send("POST", path, bearer);
    const again = await s.send("POST", path, bearer);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.text()).toBe(await canceled.text());
  });

  it("a command that stored its answer with its write is not stored again; a refusal, which writes nothing, is", async () => {
    const s = setup();
    const completed: string[] = [];
    const counting = setup({
      links: s.links,
      clock: s.clock,
      idempotency: {
        ...s.store,
        completeIdempotencyKey: (...args: Parameters<typeof s.store.completeIdempotencyKey>) => {
          completed.push(args[1]);
          return s.store.completeIdempotencyKey(...args);
        },
      },
    });
    const ids = await s.seed();
    const created = await counting.send("POST", "/payments", {
      json: createBody,
      headers: { "idempotency-key": "one-commit-create" },
    });
    const canceled = await counting.send("POST", `/payments/${ids.pending}/cancel`, {
      headers: { "idempotency-key": "one-commit-cancel" },
    });
    const refused = await counting.send("POST", `/payments/${ids.paid}/cancel`, {
      headers: { "idempotency-key": "refused-cancel" },
    });
    expect([created.status, canceled.status, refused.status]).toEqual([200, 200, 409]);
    expect(completed).toEqual(["refused-cancel"]);
    // Each is replayed all the same.
    for (const key of ["one-commit-cancel", "refused-cancel"]) {
      const path =
        key === "refused-cancel" ? `/payments/${ids.paid}/cancel` : `/payments/${ids.pending}/cancel`;
      const again = await s.send("POST", path, { headers: { "idempotency-key": key } });
      expect(again.headers.get("idempotent-replayed")).toBe("true");
    }
  });

  it("a key whose holder died before its write: 409 with Retry-After during the lease, then the retry runs it", async () => {
    const s = setup();
    const headers = { "idempotency-key": "crash-before-write" };
    const body = JSON.stringify(createBody);
    // What a killed process leaves behind: a claim with no answer, and no payment.
    await s.store.claimIdempotencyKey(
      SCOPE,
      {
        key: "crash-before-write",
        fingerprint: fingerprintOf("POST", "/payments", body),
        response: null,
        createdAt: s.clock.now().toISOString(),
        token: "dead-process",
        lockedUntil: new Date(s.clock.now().getTime() + IDEMPOTENCY_LEASE_MS).toISOString(),
      },
      "2000-01-01T00:00:00.000Z",
    );
    s.clock.advance(4_000);
    const during = await s.send("POST", "/payments", {
      body,
      headers: { ...headers, "content-type": "application/json" },
    });
    expect(during.status).toBe(409);
    expect(((await during.json()) as { error: { code: string } }).error.code).toBe("idempotency_key_in_use");
    expect(during.headers.get("retry-after")).toBe("6");
    // Another request under the key is still refused as a reuse, lease or not.
    s.clock.advance(6_000);
    const other = await s.send("POST", "/payments", { json: { ...createBody, amountSubtotal: 5 }, headers });
    expect(other.status).toBe(422);
    // The same request takes the key over once the lease ended, runs, and is answered from then on.
    const after = await s.send("POST", "/payments", {
      body,
      headers: { ...headers, "content-type": "application/json" },
    });
    expect(after.status).toBe(200);
    expect(after.headers.get("idempotent-replayed")).toBeNull();
    const replay = await s.send("POST", "/payments", {
      body,
      headers: { ...headers, "content-type": "application/json" },
    });
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.text()).toBe(await after.text());
    expect(s.store.size()).toBe(1);
  });

  it("a holder that outlived its lease cannot write once a retry took the key over: one payment", async () => {
    const s = setup();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let calls = 0;
    // The first create stalls inside its write (a long GC pause, a stuck disk) past its lease.
    const stalling: PaymentStore = {
      ...s.store,
      insert: async (...args) => {
        if (++calls === 1) await gate;
        return s.store.insert(...args);
      },
    };
    let n = 0;
    const links = createPaymentLinks({
      store: stalling,
      clock: s.clock,
      ids: { paymentId: () => `pay_stall_${++n}`, eventId: () => `evt_stall_${++n}` },
    });
    const app = setup({ links, idempotency: s.store, clock: s.clock });
    const headers = { "idempotency-key": "stalled" };
    const first = app.send("POST", "/payments", { json: createBody, headers });
    await new Promise((resolve) => setTimeout(resolve, 20));
    s.clock.advance(IDEMPOTENCY_LEASE_MS);
    const retry = await app.send("POST", "/payments", { json: createBody, headers });
    expect(retry.status).toBe(200);
    release();
    const late = await first;
    expect(late.status).toBe(409);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe("conflict");
    expect(s.store.size()).toBe(1);
    const replay = await app.send("POST", "/payments", { json: createBody, headers });
    expect(await replay.text()).toBe(await retry.text());
  });

  it("forgets keys after 24 hours", async () => {
    const s = setup();
    const headers = { "idempotency-key": "old" };
    s.clock.set(new Date("2025-12-01T00:00:00Z"));
    const body = { ...createBody, expiresAt: "2027-01-01T00:00:00Z" };
    await s.send("POST", "/payments", { json: body, headers });
    s.clock.advance(IDEMPOTENCY_RETENTION_MS - 1);
    expect(
      (await s.send("POST", "/payments", { json: body, headers })).headers.get("idempotent-replayed"),
    ).toBe("true");
    s.clock.advance(2);
    const later = await s.send("POST", "/payments", { json: { ...body, amountSubtotal: 7 }, headers });
    expect(later.status).toBe(200);
    expect(later.headers.get("idempotent-replayed")).toBeNull();
    expect(s.store.size()).toBe(2);
  });

  it("releases the key after a 5xx so that a retry runs again", async () => {
    let failing = true;
    const s = setup(
      {},
      {
        beforeWrite: () => {
          if (failing) throw new Error("SQLITE_IOERR: disk I/O error at /var/lib/secret.db");
        },
      },
    );
    const headers = { "idempotency-key": "retry-me" };
    const down = await s.send("POST", "/payments", { json: createBody, headers });
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("1");
    const text = await down.text();
    expect(text).not.toMatch(/SQLITE|secret|disk|stack|Error:/);
    expect(JSON.parse(text).error).toMatchObject({ type: "api_error", code: "store_unavailable" });
    failing = false;
    const up = await s.send("POST", "/payments", { json: createBody, headers });
    expect(up.status).toBe(200);
    expect(up.headers.get("idempotent-replayed")).toBeNull();
    expect(s.store.size()).toBe(1);
  });

  it("answers 503 when the idempotency store itself fails, and 400 for a malformed key", async () => {
    const s = setup();
    const broken = setup({
      idempotency: {
        claimIdempotencyKey: async () => {
          throw new Error("connection refused 10.0.0.7:5432");
        },
        completeIdempotencyKey: async () => undefined,
        releaseIdempotencyKey: async () => undefined,
      },
    });
    const down = await broken.send("POST", "/payments", {
      json: createBody,
      headers: { "idempotency-key": "k" },
    });
    expect(down.status).toBe(503);
    expect(await down.text()).not.toContain("10.0.0.7");
    for (const key of ["x".repeat(256), "tab\there", "é"]) {
      const response = await s.send("POST", "/payments", {
        json: createBody,
        headers: { "idempotency-key": key },
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        "idempotency_key_invalid",
      );
    }
    expect(s.store.size()).toBe(0);
  });

  it("does not store validation failures (a corrected request may reuse the key)", async () => {
    const s = setup();
    const headers = { "idempotency-key": "fix-me" };
    const bad = await s.send("POST", "/payments", { json: { ...createBody, currency: "XXX" }, headers });
    expect(bad.status).toBe(400);
    const good = await s.send("POST", "/payments", { json: createBody, headers });
    expect(good.status).toBe(200);
  });
});
