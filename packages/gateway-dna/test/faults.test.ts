import { afterEach, describe, expect, test } from "vitest";
import type { Outage } from "./fake-dna.js";
import { type DnaHarness, makeDnaHarness } from "./harness.js";
import { aLink } from "./payments.js";

let h: DnaHarness;
afterEach(async () => {
  await h.close();
});

describe("the OAuth token", () => {
  test("is asked for with client credentials and scope pay_by_link, then reused", async () => {
    h = await makeDnaHarness();
    const { reference } = (await h.gateway.createLink(aLink())) as { reference: string };
    await h.gateway.getLink(reference);
    await h.gateway.stopLink(reference);
    const asked = h.fake.tokenRequests();
    expect(asked).toHaveLength(1);
    const form = new URLSearchParams(asked[0]!.body);
    expect(Object.fromEntries(form)).toEqual({
      grant_type: "client_credentials",
      scope: "pay_by_link",
      client_id: h.fake.clientId,
      client_secret: h.fake.clientSecret,
    });
    const api = h.fake.requests.filter((r) => r.path !== "/oauth2/token");
    expect(new Set(api.map((r) => r.authorization)).size).toBe(1);
  });

  test("concurrent calls share one token request", async () => {
    h = await makeDnaHarness();
    await Promise.all([1, 2, 3, 4].map(() => h.gateway.getLink("nosuchlnk")));
    expect(h.fake.tokenRequests()).toHaveLength(1);
  });

  test("is refreshed before it expires: margin before expires_in, by the gateway's clock", async () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    h = await makeDnaHarness({ now: () => now, tokenRefreshMarginMs: 60_000 });
    h.fake.setTokenTtl(3600);
    await h.gateway.getLink("nosuchlnk");
    now += 3600_000 - 60_001;
    await h.gateway.getLink("nosuchlnk");
    expect(h.fake.tokenRequests()).toHaveLength(1);
    now += 2;
    await h.gateway.getLink("nosuchlnk");
    expect(h.fake.tokenRequests()).toHaveLength(2);
    // No request was answered 401: the token was replaced before DNA would have refused it.
    expect(h.fake.requests.filter((r) => r.path !== "/oauth2/token")).toHaveLength(3);
  });

  test("is refreshed once on a 401 and the call is made again", async () => {
    h = await makeDnaHarness();
    const { reference } = (await h.gateway.createLink(aLink())) as { reference: string };
    h.fake.expireTokens();
    expect(await h.gateway.stopLink(reference)).toEqual({ outcome: "stopped" });
    expect(h.fake.tokenRequests()).toHaveLength(2);
  });

  test("a second 401 is not retried in a loop: two tokens, two calls, then an answer", async () => {
    h = await makeDnaHarness({ createLookbackMs: 0 });
    h.fake.rejectTokens(true);
    const created = await h.gateway.createLink(aLink());
    expect(created).toEqual({
      outcome: "refused",
      reason: "DNA HTTP 401: 401 Invalid authentication credentials",
    });
    expect(h.fake.tokenRequests()).toHaveLength(2);
    expect(h.fake.requests.filter((r) => r.path === "/v1/payment-links")).toHaveLength(2);
    // Refused credentials fail every call alike: a stop is retried later by the relay, never looped here.
    const stop = await h.gateway.stopLink("abc");
    expect(stop.outcome).toBe("retry_later");
  });

  test("bad client credentials are refused with the OAuth error, and no API call is made", async () => {
    h = await makeDnaHarness({ clientSecret: "wrong", createLookbackMs: 0 });
    expect(await h.gateway.createLink(aLink())).toEqual({
      outcome: "refused",
      reason: "token: DNA HTTP 401: invalid_client Bad client credentials",
    });
    expect(h.fake.requests.filter((r) => r.path !== "/oauth2/token")).toHaveLength(0);
  });
});

describe("outages answer retry_later within the timeout, and the stop goes through once DNA is back", () => {
  const kinds: Outage[] = ["refused", "500", "429", "hang"];
  for (const kind of kinds) {
    test(`${kind}: create and stop answer retry_later`, async () => {
      h = await makeDnaHarness({ timeoutMs: 300 });
      const { reference } = (await h.gateway.createLink(aLink())) as { reference: string };
      h.outage(kind);
      const started = Date.now();
      const results = [await h.gateway.createLink(aLink()), await h.gateway.stopLink(reference)];
      // Each call stops at its first request, so each takes at most one timeout.
      expect(Date.now() - started).toBeLessThan(2 * 300 + 600);
      for (const result of results) {
        expect(result.outcome).toBe("retry_later");
        if (kind === "429") expect(result).toMatchObject({ retryAfterMs: 2000 });
        if (kind === "500")
          expect(result).toMatchObject({ detail: expect.stringMatching(/^(token: )?HTTP 500$/) });
        if (kind === "hang") {
          expect(result).toMatchObject({ detail: "timeout after 300 ms" });
        }
      }
      h.restore();
      expect(await h.gateway.stopLink(reference)).toEqual({ outcome: "stopped" });
    });
  }

  test("an outage met by the token request is retry_later, saying so", async () => {
    h = await makeDnaHarness({ timeoutMs: 300 });
    h.outage("429");
    expect(await h.gateway.stopLink("abc")).toEqual({
      outcome: "retry_later",
      detail: "token: HTTP 429",
      retryAfterMs: 2000,
    });
  });

  test("a 500 on the API call itself (with a valid token) is retry_later too", async () => {
    h = await makeDnaHarness();
    const { reference } = (await h.gateway.createLink(aLink())) as { reference: string };
    h.outage("500");
    expect(await h.gateway.stopLink(reference)).toEqual({ outcome: "retry_later", detail: "HTTP 500" });
    expect(h.fake.links.get(reference)!.status).toBe("active");
  });
});
