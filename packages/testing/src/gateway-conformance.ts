import type { GatewayCapabilities, GatewayHarness, GatewaySuite } from "./conformance/gateway-kit.js";
import { linkTests } from "./conformance/gateway-links.js";
import { outageTests } from "./conformance/gateway-outages.js";
import { refundTests } from "./conformance/gateway-refunds.js";
import { webhookTests } from "./conformance/gateway-webhooks.js";
import type { TestFunction } from "./conformance.js";

export type {
  ForgeryKind,
  GatewayCapabilities,
  GatewayHarness,
  OutageKind,
  ProviderWebhook,
} from "./conformance/gateway-kit.js";

/** Options of {@link gatewayConformance}. */
export interface GatewayConformanceOptions {
  /** Prefix of every test name. Default: `gateway conformance`. */
  readonly name?: string;
  /**
   * The gateway's own timeout of one provider call, as the harness configured it: during a `hang`
   * outage every call must answer `retry_later` within this plus `marginMs`. Default: 2 000.
   */
  readonly callTimeoutMs?: number;
  /** How much later than `callTimeoutMs` an answer may come before it counts as a hang. Default: 1 000. */
  readonly marginMs?: number;
  /**
   * Currencies the suite makes links in (ISO 4217). Default: `["GBP", "JPY"]` (two decimals and none, so
   * a confusion of minor and major units shows). List only those the provider takes.
   */
  readonly currencies?: readonly string[];
  /**
   * What the provider cannot do, each with the reason: the tests that need it are skipped, visibly, with
   * that reason (and reported to `onSkip`). Default: none — a gateway claims only what it lacks.
   */
  readonly unsupported?: GatewayCapabilities;
  /** Per-test timeout in ms. Default: 30 000. */
  readonly timeout?: number;
  /**
   * Told of every test skipped because the provider lacks what it needs (a webhook for a failed attempt,
   * or a capability listed in `unsupported`), with the reason. Runners that can skip a running test (vitest, node:test) also report it
   * as skipped; without `onSkip`, for one that cannot (jest), the suite warns on the console.
   */
  readonly onSkip?: (name: string, reason: string) => void;
}

class Skipped extends Error {}

/**
 * The conformance suite every payment gateway runs (the `PaymentGateway` port of `@paylink/core`), in
 * the style of `storeConformance`: `makeHarness` gives every test a fresh gateway with its provider (a
 * local fake of the provider's API, or an in-process provider) and the customer's side of it; the suite
 * closes it afterwards. Laws: `createLink` answers a reference and an http(s) URL; `stopLink` answers
 * `stopped`, then `already_stopped`, or `already_paid` with the same payment reference as the webhook;
 * a stopped link takes no money; webhooks verify, map to machine events and keep their event id, and
 * forged, stale, unsigned or altered ones are rejected with their reason; one idempotency key is one
 * refund; every outage is `retry_later` in time, never a throw, and the call works after `restore()`.
 * See `docs/providers.md`.
 *
 * @example
 * import { test } from "vitest";
 * gatewayConformance(test, () => myHarness(), { name: "my gateway", callTimeoutMs: 500 });
 */
export function gatewayConformance(
  test: TestFunction,
  makeHarness: () => GatewayHarness | Promise<GatewayHarness>,
  options: GatewayConformanceOptions = {},
): void {
  const prefix = options.name ?? "gateway conformance";
  const timeout = options.timeout ?? 30_000;

  const skipped = (name: string, reason: string, context: unknown): void => {
    options.onSkip?.(name, reason);
    const runner = context as { skip?: (note?: string) => void } | undefined;
    // vitest's skip throws to end the test as skipped; node:test's marks it and returns.
    if (typeof runner?.skip === "function") runner.skip(`skipped: ${reason}`);
    else if (options.onSkip === undefined) console.warn(`${name} (skipped: ${reason})`);
  };

  const suite: GatewaySuite = {
    it: (name, body) => {
      const fullName = `${prefix}: ${name}`;
      // Rest parameters keep `fn.length` at 0, so jest does not wait for a `done` callback.
      test(
        fullName,
        async (...context: unknown[]) => {
          const harness = await makeHarness();
          try {
            await body(harness, (reason) => {
              throw new Skipped(reason);
            });
          } catch (error) {
            if (!(error instanceof Skipped)) throw error;
            skipped(fullName, error.message, context[0]);
          } finally {
            await harness.close();
          }
        },
        timeout,
      );
    },
    currencies: options.currencies ?? ["GBP", "JPY"],
    callTimeoutMs: options.callTimeoutMs ?? 2_000,
    marginMs: options.marginMs ?? 1_000,
    unsupported: options.unsupported ?? {},
  };

  linkTests(suite);
  webhookTests(suite);
  refundTests(suite);
  outageTests(suite);
}
