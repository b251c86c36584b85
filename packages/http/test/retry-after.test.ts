/**
 * `Retry-After` is a property of the error in the registry: a default per code in `HTTP_ERRORS`, which an
 * error may override with its own `retryAfterSeconds`; both dialects write it from there.
 */
import { errors } from "@paylink/core";
import { HTTP_ERRORS, type HttpErrorCode, retryAfterOf } from "@paylink/http";
import { describe, expect, it } from "vitest";
import { dnaApi } from "../src/dna-api.js";
import { httpError } from "../src/errors.js";
import { fingerprintOf } from "../src/idempotency.js";
import { paymentsApi } from "../src/payments-api.js";
import { KEYS, SCOPE, setup } from "./helpers.js";

const dialects = [paymentsApi(""), dnaApi()];

describe("Retry-After in the error registry", () => {
  it("has a default for exactly the codes a retry can help: a store or provider failure, a key in use, a limited client", () => {
    const withDefault = Object.entries(HTTP_ERRORS)
      .filter(([, spec]) => "retryAfterSeconds" in spec)
      .map(([code]) => code);
    expect(withDefault.sort()).toEqual([
      "idempotency_key_in_use",
      "provider_unavailable",
      "store_unavailable",
      "too_many_auth_failures",
    ]);
  });

  it.each(dialects)(
    "$name: store_unavailable sends Retry-After 1, whether core or the transport refused",
    (dialect) => {
      const fromTransport = dialect.write(httpError("store_unavailable", "down"));
      const fromCore = dialect.write({ refused: errors.storeUnavailable(new Error("disk")) });
      for (const reply of [fromTransport, fromCore]) {
        expect(reply.status).toBe(503);
        expect(reply.headers).toEqual({ "Retry-After": "1" });
      }
    },
  );

  it.each(dialects)(
    "$name: an error's own seconds win over its code's, and codes without one send none",
    (dialect) => {
      const cases: [HttpErrorCode, number | undefined, string | undefined][] = [
        ["idempotency_key_in_use", 6, "6"],
        ["too_many_auth_failures", 57, "57"],
        ["store_unavailable", 30, "30"],
        ["conflict", 2, "2"],
        ["conflict", undefined, undefined],
        ["resource_missing", undefined, undefined],
      ];
      for (const [code, own, header] of cases) {
        const error = httpError(code, "x", own === undefined ? {} : { retryAfterSeconds: own });
        expect(retryAfterOf(error), code).toBe(
          own ?? ("retryAfterSeconds" in HTTP_ERRORS[code] ? 1 : undefined),
        );
        expect(dialect.write(error).headers?.["Retry-After"], code).toBe(header);
      }
    },
  );
});

describe("Retry-After over HTTP, in both dialects", () => {
  it("idempotency_key_in_use: the seconds left on the first request's lease", async () => {
    const s = setup();
    const ids = await s.seed();
    for (const [path, auth] of [
      [`/payments/${ids.pending}/cancel`, { key: KEYS.rw }],
      [`/v1/payment-links/${ids.viewed}/cancellation`, { key: null, bearer: KEYS.rw }],
    ] as const) {
      const key = `held-${path}`;
      await s.store.claimIdempotencyKey(
        SCOPE,
        {
          key,
          fingerprint: fingerprintOf("POST", path, ""),
          response: null,
          createdAt: s.clock.now().toISOString(),
          token: "still-running",
          lockedUntil: new Date(s.clock.now().getTime() + 10_000).toISOString(),
        },
        "2000-01-01T00:00:00.000Z",
      );
      s.clock.advance(2_500);
      const response = await s.send("POST", path, { ...auth, headers: { "idempotency-key": key } });
      expect(response.status).toBe(409);
      expect(response.headers.get("retry-after")).toBe("8");
    }
  });

  it("too_many_auth_failures: the seconds until the client's oldest failure leaves the window", async () => {
    const s = setup({ authFailureLimit: { max: 1, windowMs: 30_000 } });
    expect((await s.send("GET", "/payments/pay_x", { key: "sk_wrong" })).status).toBe(401);
    s.clock.advance(10_000);
    const a = await s.send("GET", "/payments/pay_x", { key: KEYS.rw });
    const b = await s.send("GET", "/v1/payment-links/pay_x", { key: null, bearer: KEYS.rw });
    for (const response of [a, b]) {
      expect(response.status).toBe(429);
      expect(response.headers.get("retry-after")).toBe("20");
    }
  });
});
