import assert from "node:assert/strict";
import type { RetryLater } from "@paylink/core";
import { answer, expectOutcome, type GatewaySuite, newLink, type OutageKind } from "./gateway-kit.js";
import { createdLink } from "./gateway-links.js";
import { paidLink, refunded, refundKey, refundOf } from "./gateway-refunds.js";

const OUTAGES: readonly { kind: OutageKind; what: string }[] = [
  { kind: "refused", what: "connection refused" },
  { kind: "500", what: "HTTP 500" },
  { kind: "429", what: "HTTP 429 with Retry-After: 2" },
  { kind: "hang", what: "no answer before the gateway's timeout" },
];

/** Asserts the shape of a `retry_later` answer during an outage of `kind`. */
function assertRetryLater(result: { readonly outcome: string }, kind: OutageKind, call: string) {
  const later = expectOutcome(
    result as RetryLater | { outcome: "other" },
    "retry_later",
    `law: during an outage (${kind}), ${call} answers retry_later`,
  );
  assert.ok(
    typeof later.detail === "string" && later.detail.length > 0,
    `law: retry_later says why in detail (${call}, ${kind})`,
  );
  if (kind === "429")
    assert.ok(
      typeof later.retryAfterMs === "number" && later.retryAfterMs >= 2_000,
      `law: a 429 with Retry-After: 2 answers retryAfterMs of at least 2000 (${call}; got ${later.retryAfterMs})`,
    );
  else if (later.retryAfterMs !== undefined)
    assert.ok(
      Number.isFinite(later.retryAfterMs) && later.retryAfterMs >= 0,
      `law: retryAfterMs, when given, is a duration in ms (${call})`,
    );
}

/** Provider outages: every call answers `retry_later` in time, never throws, and works after `restore()`. */
export function outageTests(suite: GatewaySuite): void {
  const { it } = suite;
  const deadline = suite.callTimeoutMs + suite.marginMs;

  for (const { kind, what } of OUTAGES)
    it(`outage (${kind}: ${what}): createLink, stopLink and refund answer retry_later in time, and succeed after restore()`, async (harness) => {
      const refunds = suite.unsupported.refunds === undefined;
      const open = await createdLink(harness, suite);
      const sold = refunds ? await paidLink(harness, suite) : undefined;
      const fresh = await newLink(harness.gateway.provider);
      const refund = sold && refundOf(sold.payment, sold.paymentReference, refundKey(sold.paymentReference));
      const inTime = (call: string) =>
        `law: during an outage (${kind}), ${call} answers a value within the gateway's timeout + ${suite.marginMs} ms`;

      harness.outage(kind);
      const [created, stopped, refunding] = await Promise.all([
        answer(inTime("createLink"), () => harness.gateway.createLink(fresh), deadline),
        answer(inTime("stopLink"), () => harness.gateway.stopLink(open.reference), deadline),
        refund && answer(inTime("refund"), () => harness.gateway.refund(refund), deadline),
      ]);
      assertRetryLater(created, kind, "createLink");
      assertRetryLater(stopped, kind, "stopLink");
      if (refunding !== undefined) assertRetryLater(refunding, kind, "refund");

      harness.restore();
      expectOutcome(
        await answer("law: createLink answers", () => harness.gateway.createLink(fresh), deadline),
        "created",
        `law: after restore() (${kind}), createLink answers created`,
      );
      const stop = await answer(
        "law: stopLink answers",
        () => harness.gateway.stopLink(open.reference),
        deadline,
      );
      assert.ok(
        stop.outcome === "stopped" || stop.outcome === "already_stopped",
        `law: after restore() (${kind}), stopLink answers stopped (or already_stopped if the stop got through) (got ${JSON.stringify(stop)})`,
      );
      if (refund === undefined) return;
      const first = refunded(
        await answer("law: refund answers", () => harness.gateway.refund(refund), deadline),
        `law: after restore() (${kind}), the refund is made`,
      );
      assert.equal(
        refunded(
          await answer("law: refund answers", () => harness.gateway.refund(refund), deadline),
          "law: a refund retried with its key answers the refund",
        ),
        first,
        `law: after an outage (${kind}), the retried key still answers one refund`,
      );
    });
}
