import {
  type Clock,
  type CreateLinkResult,
  PAYLINK_ID_METADATA_KEY,
  type Payment,
  type PaymentGateway,
  type ProviderPaymentEvent,
  type RefundResult,
  type RetryLater,
  type StopResult,
  systemClock,
  type WebhookParseResult,
} from "@paylink/core";
import { type ApiAnswer, createProviderState, type TestLink } from "./provider.js";
import { newSecret, signWebhook, type TestWebhook, verifyWebhook } from "./signing.js";

/** How the test provider's API misbehaves during an outage; see {@link TestGateway.outage}. */
export type TestOutage = "refused" | "500" | "429" | "hang";

/** Options of {@link createTestGateway}. */
export interface TestGatewayOptions {
  /**
   * The page where the customer pays the provider object `reference` (made for `payment`): the demo's
   * own `/pay/{id}`. Default: `https://test-provider.paylink.invalid/pay/{reference}`.
   */
  readonly urlFor?: (reference: string, payment: Payment) => string;
  /** The webhook signing secret (`whsec_` and base64). Default: a new random one; read it back as `secret`. */
  readonly secret?: string;
  /** Time source of webhook timestamps and of their age check. Default: the system clock. */
  readonly clock?: Clock;
  /** How long the gateway waits for the provider before answering `retry_later`. Default: 10 000 ms. */
  readonly timeoutMs?: number;
  /** How old (or how far ahead) a webhook's timestamp may be. Default: 300 000 ms (5 min). */
  readonly toleranceMs?: number;
}

/** The test cards: any other card of 12 to 19 digits pays too. */
export const TEST_CARDS = {
  /** Pays. */
  succeeds: "4242 4242 4242 4242",
  /** Is declined: the attempt fails, and a `payment.failed` webhook reports it. */
  declined: "4000 0000 0000 0002",
} as const;

/** What the customer's side of the test provider answers. */
export type CustomerAnswer =
  /** The link is paid: deliver `webhook` to the application (as often as you like: it dedupes). */
  | { readonly outcome: "paid"; readonly paymentReference: string; readonly webhook: TestWebhook }
  /** The attempt failed (a declined card, or {@link TestGateway.fail}); `webhook` reports it. */
  | { readonly outcome: "declined"; readonly webhook: TestWebhook }
  /** The link takes no money: unknown, stopped, or paid already. Nothing happened. */
  | { readonly outcome: "not_payable"; readonly reason: "unknown_link" | "stopped" | "paid" }
  /** The card number is not 12 to 19 digits. Nothing happened. */
  | { readonly outcome: "invalid_card" };

/**
 * The built-in test provider behind the {@link PaymentGateway} port (provider `test`), in process and
 * without network, plus the customer's side of it (what the demo's `/pay/{id}` page calls) and fault
 * switches that make its API fail as a real provider's does.
 */
export interface TestGateway extends PaymentGateway {
  readonly provider: "test";
  /** The secret its webhooks are signed with. */
  readonly secret: string;
  /** The customer pays `reference` in full with `card` (default {@link TEST_CARDS}.succeeds). */
  pay(reference: string, card?: string): Promise<CustomerAnswer>;
  /** The customer's attempt on `reference` fails (as with a declined card). */
  fail(reference: string): Promise<CustomerAnswer>;
  /**
   * A webhook reporting a successful payment of `reference` that the gateway must reject: signed with
   * another secret, signed more than the tolerance ago, or not signed. Changes nothing at the provider.
   */
  forged(reference: string, kind: "bad_signature" | "stale" | "missing_signature"): TestWebhook;
  /** A copy of the provider object `reference`, as the provider keeps it. */
  link(reference: string): TestLink | undefined;
  /** Makes every API call (create, stop, refund) fail this way until {@link TestGateway.restore}. */
  outage(kind: TestOutage): void;
  /** Ends an outage. */
  restore(): void;
}

/** The test provider's webhook event types. */
const SUCCEEDED = "payment.succeeded";
const FAILED = "payment.failed";

interface EventData {
  readonly link: string;
  readonly payment?: string;
  readonly amount: number;
  readonly currency: string;
  readonly metadata: Record<string, string>;
}

const retryLater = (detail: string, retryAfterMs?: number): RetryLater =>
  retryAfterMs === undefined
    ? { outcome: "retry_later", detail }
    : { outcome: "retry_later", retryAfterMs, detail };

/**
 * Makes the test provider and its gateway. Provider objects live in memory, so they last as long as
 * the returned object. See the package README.
 */
export function createTestGateway(options: TestGatewayOptions = {}): TestGateway {
  const clock = options.clock ?? systemClock;
  const secret = options.secret ?? newSecret();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const toleranceMs = options.toleranceMs ?? 300_000;
  const state = createProviderState(
    options.urlFor ?? ((reference) => `https://test-provider.paylink.invalid/pay/${reference}`),
  );
  let outage: TestOutage | null = null;

  /** One call over the provider's "network": the outage decides what comes back, if anything. */
  async function request<T>(call: () => ApiAnswer<T>): Promise<ApiAnswer<T> | RetryLater> {
    const fault = outage;
    if (fault === "refused") return retryLater("connection refused");
    if (fault === "500") return retryLater("HTTP 500");
    if (fault === "429") return retryLater("HTTP 429", 2_000);
    if (fault === "hang") {
      // The provider never answers; the gateway gives up after its timeout.
      await new Promise((resolve) => setTimeout(resolve, timeoutMs).unref?.());
      return retryLater(`timeout after ${timeoutMs} ms`);
    }
    return call();
  }

  const event = (type: string, data: EventData): TestWebhook => {
    const eventId = state.newId("tev");
    const created = Math.floor(clock.now().getTime() / 1_000);
    const body = JSON.stringify({ id: eventId, type, created, data });
    return signWebhook(secret, eventId, clock.now(), body);
  };
  const dataOf = (link: TestLink, payment?: string): EventData => ({
    link: link.reference,
    ...(payment === undefined ? {} : { payment }),
    amount: link.amount,
    currency: link.currency,
    metadata: { ...link.metadata },
  });

  const fail = async (reference: string): Promise<CustomerAnswer> => {
    const link = state.link(reference);
    if (link === undefined) return { outcome: "not_payable", reason: "unknown_link" };
    if (link.status !== "open") return { outcome: "not_payable", reason: link.status };
    return { outcome: "declined", webhook: event(FAILED, dataOf(link)) };
  };

  return {
    provider: "test",
    secret,

    async createLink(payment): Promise<CreateLinkResult> {
      const answer = await request(() => state.createLink(payment));
      if ("outcome" in answer) return answer;
      if (answer.status !== 200) return failure(answer);
      return { outcome: "created", reference: answer.body.reference, url: answer.body.url };
    },

    async stopLink(reference): Promise<StopResult> {
      const answer = await request(() => state.stopLink(reference));
      if ("outcome" in answer) return answer;
      // An unknown reference can take no money; the port has no refusal for a stop (see docs/providers.md).
      if ("code" in answer) return { outcome: "already_stopped" };
      if (answer.status !== 200) return retryOf(answer);
      const { link, changed } = answer.body;
      if (link.status === "paid")
        return {
          outcome: "already_paid",
          paymentReference: link.paymentReference!,
          amount: link.amount,
          currency: link.currency,
        };
      return { outcome: changed ? "stopped" : "already_stopped" };
    },

    async refund(refund): Promise<RefundResult> {
      const answer = await request(() =>
        state.refund({ ...refund, metadata: { [PAYLINK_ID_METADATA_KEY]: refund.paylinkId } }),
      );
      if ("outcome" in answer) return answer;
      if (answer.status !== 200) return failure(answer);
      return { outcome: "succeeded", reference: answer.body.reference };
    },

    async parseWebhook(rawBody, headers): Promise<WebhookParseResult> {
      const verified = verifyWebhook(secret, rawBody, headers, clock.now(), toleranceMs);
      if (verified.outcome !== "verified") return { outcome: "rejected", reason: verified.outcome };
      const parsed = parseEvent(rawBody);
      if (parsed === undefined || parsed.id !== verified.id)
        return { outcome: "rejected", reason: "malformed" };
      return { outcome: "verified", eventId: parsed.id, eventType: parsed.type, events: eventsOf(parsed) };
    },

    async pay(reference, card = TEST_CARDS.succeeds) {
      const digits = card.replaceAll(" ", "");
      if (!/^\d{12,19}$/.test(digits)) return { outcome: "invalid_card" };
      if (digits === TEST_CARDS.declined.replaceAll(" ", "")) return fail(reference);
      const taken = state.pay(reference);
      if ("refused" in taken) return { outcome: "not_payable", reason: taken.refused };
      const link = state.link(reference)!;
      return {
        outcome: "paid",
        paymentReference: taken.reference,
        webhook: event(SUCCEEDED, dataOf(link, taken.reference)),
      };
    },

    fail,

    forged(reference, kind) {
      const link = state.link(reference);
      const eventId = state.newId("tev");
      const body = JSON.stringify({
        id: eventId,
        type: SUCCEEDED,
        created: Math.floor(clock.now().getTime() / 1_000),
        data: {
          link: reference,
          payment: state.newId("tpi"),
          amount: link?.amount ?? 1,
          currency: link?.currency ?? "GBP",
          metadata: { [PAYLINK_ID_METADATA_KEY]: link?.metadata[PAYLINK_ID_METADATA_KEY] ?? "pay_unknown" },
        },
      });
      if (kind === "bad_signature") return signWebhook(newSecret(), eventId, clock.now(), body);
      if (kind === "stale")
        return signWebhook(secret, eventId, new Date(clock.now().getTime() - toleranceMs - 60_000), body);
      const { "webhook-signature": _dropped, ...headers } = signWebhook(
        secret,
        eventId,
        clock.now(),
        body,
      ).headers;
      return { rawBody: body, headers };
    },

    link: (reference) => state.link(reference),
    outage(kind) {
      outage = kind;
    },
    restore() {
      outage = null;
    },
  };
}

/** A provider refusal or error status, as the port's answer. */
function failure(
  answer: Exclude<ApiAnswer<unknown>, { status: 200 }>,
): RetryLater | { outcome: "refused"; reason: string } {
  if ("code" in answer) return { outcome: "refused", reason: `${answer.code}: ${answer.message}` };
  return retryOf(answer);
}

/** A 429 or 5xx of the provider: try again, after its Retry-After if it gave one. */
function retryOf(answer: Extract<ApiAnswer<unknown>, { status: 429 | 500 }>): RetryLater {
  return retryLater(
    `HTTP ${answer.status}`,
    answer.retryAfterSeconds === undefined ? undefined : answer.retryAfterSeconds * 1_000,
  );
}

interface ParsedEvent {
  readonly id: string;
  readonly type: string;
  readonly data: EventData;
}

/** The event in a verified body, or undefined when it is not the provider's shape. */
function parseEvent(rawBody: string): ParsedEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(rawBody);
  } catch {
    return undefined;
  }
  const event = value as Partial<ParsedEvent> | null;
  const data = event?.data as Partial<EventData> | undefined;
  if (
    typeof event?.id !== "string" ||
    typeof event.type !== "string" ||
    typeof data !== "object" ||
    data === null
  )
    return undefined;
  if (
    typeof data.link !== "string" ||
    typeof data.amount !== "number" ||
    typeof data.currency !== "string" ||
    typeof data.metadata?.[PAYLINK_ID_METADATA_KEY] !== "string" ||
    (data.payment !== undefined && typeof data.payment !== "string")
  )
    return undefined;
  return event as ParsedEvent;
}

/** The machine events of a provider event: a success, or a started attempt that failed; others none. */
function eventsOf(event: ParsedEvent): ProviderPaymentEvent[] {
  const { data } = event;
  const paylinkId = data.metadata[PAYLINK_ID_METADATA_KEY]!;
  const money = { amount: data.amount, currency: data.currency };
  if (event.type === SUCCEEDED && data.payment !== undefined)
    return [{ type: "PAYMENT_SUCCEEDED", paylinkId, paymentReference: data.payment, ...money }];
  // A failed attempt was started first: the machine takes a failure only from `processing`.
  if (event.type === FAILED)
    return [
      { type: "START_PAYMENT", paylinkId },
      { type: "PAYMENT_FAILED", paylinkId, ...money },
    ];
  return [];
}
