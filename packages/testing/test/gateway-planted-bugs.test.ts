/**
 * The gateway conformance suite, tested: each gateway below is the test provider's gateway
 * (`@paylink/gateway-test`) with one bug planted, of the kind that loses or doubles money in
 * production, and the suite must turn red for each, in the tests named, with a message naming the law.
 */
import type { PaymentGateway } from "@paylink/core";
import { type CustomerAnswer, createTestGateway, type TestGatewayOptions } from "@paylink/gateway-test";
import { describe, expect, test } from "vitest";
import { type GatewayCapabilities, type GatewayHarness, gatewayConformance } from "../src/index.js";
import { type Outcome, recordSuite } from "./record-suite.js";

const CALL_TIMEOUT_MS = 200;
const MARGIN_MS = 300;

/** A harness over a test gateway made with `options`, whose gateway methods `plant` may replace. */
function harness(
  plant: (gateway: PaymentGateway) => Partial<PaymentGateway> = () => ({}),
  options: TestGatewayOptions = {},
): () => GatewayHarness {
  return () => {
    const inner = createTestGateway({ timeoutMs: CALL_TIMEOUT_MS, ...options });
    const webhook = (answer: CustomerAnswer) => {
      if (!("webhook" in answer)) throw new Error(`the test provider answered ${JSON.stringify(answer)}`);
      return answer.webhook;
    };
    const gateway: PaymentGateway = {
      provider: inner.provider,
      createLink: (payment) => inner.createLink(payment),
      stopLink: (reference) => inner.stopLink(reference),
      refund: (request) => inner.refund(request),
      parseWebhook: (rawBody, headers) => inner.parseWebhook(rawBody, headers),
    };
    return {
      gateway: { ...gateway, ...plant(gateway) },
      pay: async (reference) => webhook(await inner.pay(reference)),
      fail: async (reference) => webhook(await inner.fail(reference)),
      forged: async (reference, kind) => inner.forged(reference, kind),
      outage: (kind) => inner.outage(kind),
      restore: () => inner.restore(),
      close: async () => {},
    };
  };
}

/** Runs the whole suite over harnesses from `makeHarness`, recording each outcome instead of registering it. */
function runSuite(
  makeHarness: () => GatewayHarness,
  unsupported: GatewayCapabilities = {},
): Promise<Map<string, Outcome>> {
  return recordSuite(
    (test) =>
      gatewayConformance(test, makeHarness, {
        name: "planted",
        callTimeoutMs: CALL_TIMEOUT_MS,
        marginMs: MARGIN_MS,
        unsupported,
      }),
    { parallel: true },
  );
}

const OUTAGE = (kind: string) => `outage (${kind}`;

interface PlantedBug {
  readonly bug: string;
  readonly makeHarness: () => GatewayHarness;
  /** Tests (by name, without the prefix, or a prefix of it) that must fail. */
  readonly fails: readonly string[];
}

const PLANTED: readonly PlantedBug[] = [
  {
    bug: "refunds twice for one idempotency key (the key is not sent to the provider)",
    makeHarness: harness((inner) => ({
      refund: (request) =>
        inner.refund({ ...request, idempotencyKey: `${request.idempotencyKey}_${Math.random()}` }),
    })),
    fails: [
      "refund: one idempotency key twice answers the same refund (one refund)",
      "refund: concurrent calls with one idempotency key make one refund",
      OUTAGE("refused"),
    ],
  },
  {
    bug: "maps a stale signature to verified (no age check)",
    makeHarness: harness(undefined, { toleranceMs: Number.POSITIVE_INFINITY }),
    fails: ["parseWebhook: a forged webhook (stale) is rejected as stale"],
  },
  {
    bug: "throws on an outage instead of answering retry_later",
    makeHarness: harness((inner) => {
      const loud =
        <A extends unknown[], R extends { outcome: string }>(call: (...args: A) => Promise<R>) =>
        async (...args: A) => {
          const result = await call(...args);
          if (result.outcome === "retry_later") throw new Error("provider unavailable");
          return result;
        };
      return {
        createLink: loud(inner.createLink),
        stopLink: loud(inner.stopLink),
        refund: loud(inner.refund),
      };
    }),
    fails: [OUTAGE("refused"), OUTAGE("500"), OUTAGE("429"), OUTAGE("hang")],
  },
  {
    bug: "waits for a hung provider without a timeout",
    makeHarness: harness(undefined, { timeoutMs: 60_000 }),
    fails: [OUTAGE("hang")],
  },
  {
    bug: "ignores Retry-After on a 429",
    makeHarness: harness((inner) => ({
      createLink: async (payment) => {
        const result = await inner.createLink(payment);
        return result.outcome === "retry_later" ? { outcome: "retry_later", detail: result.detail } : result;
      },
    })),
    fails: [OUTAGE("429")],
  },
  {
    bug: "reports a stop of a paid link as stopped (the late payment is lost)",
    makeHarness: harness((inner) => ({
      stopLink: async (reference) => {
        const result = await inner.stopLink(reference);
        return result.outcome === "already_paid" ? { outcome: "stopped" } : result;
      },
    })),
    fails: ["stopLink: a link paid before the stop is already_paid, with the webhook's paymentReference"],
  },
  {
    bug: "verifies nothing (every webhook is accepted)",
    makeHarness: harness((inner) => ({
      parseWebhook: async (rawBody, headers) => {
        const result = await inner.parseWebhook(rawBody, headers);
        if (result.outcome === "verified") return result;
        const event = JSON.parse(rawBody) as {
          id: string;
          data: { payment: string; metadata: { paylink_id: string } };
        };
        return {
          outcome: "verified",
          eventId: event.id,
          eventType: "payment.succeeded",
          events: [
            {
              type: "PAYMENT_SUCCEEDED",
              paylinkId: event.data.metadata.paylink_id,
              paymentReference: event.data.payment,
            },
          ],
        };
      },
    })),
    fails: [
      "parseWebhook: a forged webhook (bad_signature) is rejected as bad_signature",
      "parseWebhook: a forged webhook (stale) is rejected as stale",
      "parseWebhook: a forged webhook (missing_signature) is rejected as missing_signature",
      "parseWebhook: a body altered after signing (a field changed) is rejected as bad_signature",
      "parseWebhook: a body altered after signing (a byte that changes nothing in the JSON) is rejected as bad_signature",
    ],
  },
  {
    bug: "a new eventId each time a webhook is parsed (a redelivery is a new event)",
    makeHarness: harness((inner) => ({
      parseWebhook: async (rawBody, headers) => {
        const result = await inner.parseWebhook(rawBody, headers);
        return result.outcome === "verified"
          ? { ...result, eventId: `${result.eventId}_${Math.random()}` }
          : result;
      },
    })),
    fails: [
      "parseWebhook: the same webhook parsed twice has the same eventId and events; two payments differ",
    ],
  },
  {
    bug: "the success names the provider link instead of the Paylink payment",
    makeHarness: harness((inner) => ({
      parseWebhook: async (rawBody, headers) => {
        const result = await inner.parseWebhook(rawBody, headers);
        if (result.outcome !== "verified") return result;
        const link = (JSON.parse(rawBody) as { data: { link: string } }).data.link;
        return { ...result, events: result.events.map((event) => ({ ...event, paylinkId: link })) };
      },
    })),
    fails: [
      "parseWebhook: a payment is verified as one PAYMENT_SUCCEEDED for its link, with its paymentReference",
    ],
  },
  {
    bug: "amounts in major units (12 for 12.00 GBP)",
    makeHarness: harness((inner) => ({
      parseWebhook: async (rawBody, headers) => {
        const result = await inner.parseWebhook(rawBody, headers);
        if (result.outcome !== "verified") return result;
        return {
          ...result,
          events: result.events.map((event) =>
            event.amount === undefined || event.currency === "JPY"
              ? event
              : { ...event, amount: event.amount / 100 },
          ),
        };
      },
    })),
    fails: [
      "parseWebhook: a payment is verified as one PAYMENT_SUCCEEDED for its link, with its paymentReference",
    ],
  },
];

const find = (outcomes: Map<string, Outcome>, name: string) =>
  [...outcomes].filter(([test]) => test === name || (name.startsWith("outage (") && test.startsWith(name)));

describe("the gateway conformance suite catches planted bugs", () => {
  test("control: the test gateway as shipped passes every test, and none is skipped", async () => {
    const outcomes = await runSuite(harness());
    expect(outcomes.size, "the suite registered its tests").toBeGreaterThanOrEqual(18);
    expect([...outcomes].filter(([, outcome]) => outcome.state !== "passed")).toEqual([]);
  });

  for (const planted of PLANTED)
    test(planted.bug, async () => {
      const outcomes = await runSuite(planted.makeHarness);
      for (const name of planted.fails) {
        const matching = find(outcomes, name);
        expect(matching.length, `a test named "${name}" exists`).toBe(1);
        expect(matching[0]![1].state, `"${name}" turns red`).toBe("failed");
      }
      for (const [name, outcome] of outcomes)
        if (outcome.state === "failed") expect(outcome.message, name).toContain("law: ");
    });

  test("a provider without failure webhooks reports that test skipped, with the reason, and passes the rest", async () => {
    const silent = harness();
    const outcomes = await runSuite(() => ({ ...silent(), fail: async () => undefined }));
    const failure = [...outcomes].filter(([name]) => name.includes("failed attempt"));
    expect(failure).toEqual([
      [
        expect.any(String),
        { state: "skipped", note: "skipped: the provider sends no webhook for a failed attempt" },
      ],
    ]);
    expect([...outcomes].filter(([, outcome]) => outcome.state === "failed")).toEqual([]);
  });

  test("unsupported capabilities skip their tests with the reason given; the rest still run and still catch bugs", async () => {
    const refusing = harness((inner) => ({
      refund: async () => ({ outcome: "refused", reason: "refunds are made by hand" }),
      // A gateway that claims fewer capabilities is still held to the rest: here it also drops signatures.
      parseWebhook: async (rawBody, headers) => {
        const result = await inner.parseWebhook(rawBody, headers);
        return result.outcome === "rejected" && result.reason === "missing_signature"
          ? { outcome: "verified", eventId: "x", eventType: "x", events: [] }
          : result;
      },
    }));
    const outcomes = await runSuite(refusing, {
      refunds: "no idempotency keys",
      staleWebhooks: "no timestamp",
      rawBodySignatures: "fields are signed",
    });
    const skipped = [...outcomes].filter(([, outcome]) => outcome.state === "skipped");
    expect(
      skipped.map(([name, outcome]) => [name, outcome.state === "skipped" && outcome.note]).sort(),
    ).toEqual(
      [
        [
          "parseWebhook: a body altered after signing (a byte that changes nothing in the JSON) is rejected as bad_signature",
          "skipped: fields are signed",
        ],
        ["parseWebhook: a forged webhook (stale) is rejected as stale", "skipped: no timestamp"],
        ["refund: concurrent calls with one idempotency key make one refund", "skipped: no idempotency keys"],
        [
          "refund: one idempotency key twice answers the same refund (one refund)",
          "skipped: no idempotency keys",
        ],
      ].sort(),
    );
    const failed = [...outcomes].filter(([, outcome]) => outcome.state === "failed").map(([name]) => name);
    expect(failed).toEqual([
      "parseWebhook: a forged webhook (missing_signature) is rejected as missing_signature",
    ]);
    expect(outcomes.get(find(outcomes, OUTAGE("500"))[0]![0])?.state, "outages run on create and stop").toBe(
      "passed",
    );
  });
});
