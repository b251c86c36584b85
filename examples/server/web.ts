/**
 * The demo's HTML pages and their form actions, beside (never inside) the API:
 *
 * - `GET /` — the merchant page; `POST /merchant/payments` creates a link, `POST
 *   /merchant/payments/{id}/cancel` cancels one;
 * - `GET /pay/{id}` — the customer's hosted page (records a view); `POST /pay/{id}/pay` pays with a test card
 *   (for a link of the test provider, at the provider, whose signed webhook then comes in at
 *   `/webhooks/test` as any provider's would);
 * - `POST /merchant/provider/outage` and `POST /merchant/provider/restore` — the test provider's outage
 *   switches;
 * - `GET /lifecycle` — the diagram generated from the machine, with the account's counts.
 *
 * Pages call the commands directly with the demo's scope: no API key is involved or printed. Form posts
 * are refused (403) unless they come from this origin (`Sec-Fetch-Site`) on an allowed host (`Origin`,
 * see `hosts.ts`), and every action answers with a 303 redirect, so everything works without JavaScript.
 * The `Host` itself is checked before any page is reached, by `server.ts`.
 */
import {
  type Clock,
  errors,
  isCurrency,
  type Kind,
  type PaylinkError,
  type Payment,
  type PaymentLinks,
  type Scope,
  STATUSES,
  type Status,
  toMinorUnits,
} from "@paylink/core";
import type { TestWebhook } from "@paylink/gateway-test";
import type { SinkLag } from "@paylink/relay";
import { lifecycleSvg } from "./diagram.js";
import { type AllowedHosts, allowedHosts } from "./hosts.js";
import { page } from "./html.js";
import {
  type AtProvider,
  FORM_CURRENCIES,
  lifecyclePageBody,
  MERCHANT_PAGE_SIZE,
  type MerchantFlash,
  merchantPageBody,
  messageBody,
  notFoundBody,
  PAY_RESULTS,
  type PayResult,
  payPageBody,
  TEST_CARDS,
} from "./pages.js";
import { type DemoProvider, TEST_OUTAGES } from "./provider.js";

/** The payment provider as the pages use it. */
export interface PagesProvider extends DemoProvider {
  /**
   * Delivers a webhook of the test provider to this server's own intake (`POST /webhooks/test`), as the
   * provider would, and answers the intake's response.
   */
  deliverWebhook(webhook: TestWebhook): Promise<Response>;
}

/** Options of {@link createWebPages}. */
export interface WebPagesOptions {
  readonly links: PaymentLinks;
  /** The only account and mode the pages read and change. */
  readonly scope: Scope;
  readonly clock: Clock;
  /** Where a failed command's error goes (never to the page). Default: `console.error`. */
  readonly onError?: (error: PaylinkError) => void;
  /** The hosts a form post's `Origin` may name. Default: loopback only (`allowedHosts()`). */
  readonly hosts?: AllowedHosts;
  /** How far each relay sink is behind, shown on the merchant page (`relay.lag`). Default: not shown. */
  readonly lag?: () => Promise<readonly SinkLag[]>;
  /**
   * The payment provider links are hosted at. A link with a provider object is then paid at it (for the
   * test provider, through the pay form), and the merchant page shows the provider and, for the test
   * provider, its outage switches. Default: none.
   */
  readonly provider?: PagesProvider;
}

const ID = /^[A-Za-z0-9_.:-]{1,255}$/;
const FORM_LIMIT_BYTES = 8 * 1024;
const LINK_LIFETIME_MS = 7 * 86_400_000;
const LIST_PAGE = 100;
const LIST_MAX = 10_000;
/** How often a test provider's webhook the intake could not take is sent again. */
const WEBHOOK_RETRIES = 3;

const redirect = (location: string) =>
  // Relative, so the browser stays on the origin it used (127.0.0.1 or localhost): `form-action 'self'`.
  new Response(null, { status: 303, headers: { location, "cache-control": "no-store" } });

const methodNotAllowed = (allow: string) =>
  page({
    title: "Method not allowed",
    body: messageBody("Method not allowed", `This address answers ${allow} only.`),
    section: null,
    status: 405,
    headers: { allow },
  });

/**
 * True when a form post comes from another site or origin. Browsers send `Sec-Fetch-Site` and `Origin`
 * on form posts; a client that sends neither (curl, a script) is not a browser a page can misuse.
 *
 * `Origin` is checked against the allowed hosts, never against the request's `Host`: under DNS
 * rebinding the attacker's page is same-origin with its own `Host`, so that comparison always passes.
 * Another port of an allowed host is a different origin, which `Sec-Fetch-Site` (`same-site`) refuses.
 */
export function isCrossOrigin(request: Request, hosts: AllowedHosts): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return true;
  const origin = request.headers.get("origin");
  return origin !== null && !hosts.allowsOrigin(origin);
}

/**
 * The path's segments, each percent-decoded on its own: an encoded `/` (`%2F`) stays inside its segment,
 * where the id pattern then refuses it, instead of becoming a separator (`/pay/x%2Fpay` is not
 * `/pay/x/pay`). `undefined` when a segment is not valid percent-encoded UTF-8.
 */
export function pathSegments(pathname: string): string[] | undefined {
  try {
    return pathname.slice(1).split("/").map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/**
 * A request's body as text, read chunk by chunk and given up past `limit` bytes, whether or not the
 * request declared its length: `too_large` then. An absent body is empty.
 */
export async function readBody(request: Request, limit: number): Promise<string | "too_large"> {
  if (Number(request.headers.get("content-length") ?? "0") > limit) return "too_large";
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return "too_large";
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads an `application/x-www-form-urlencoded` body of at most `limit` bytes (an empty body is empty). */
export async function readForm(
  request: Request,
  limit: number,
): Promise<URLSearchParams | "too_large" | "type"> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  const body = await readBody(request, limit);
  if (body === "too_large") return body;
  if (body === "") return new URLSearchParams();
  if (type !== "application/x-www-form-urlencoded") return "type";
  return new URLSearchParams(body);
}

/** The page routes. Answers `undefined` for any other path, which the API then serves. */
export function createWebPages(
  options: WebPagesOptions,
): (request: Request) => Promise<Response | undefined> {
  const { links, scope, clock } = options;
  const hosts = options.hosts ?? allowedHosts();
  const report =
    options.onError ??
    ((error: PaylinkError) => console.error(`[demo pages] ${error.code}: ${error.message}`));

  const unavailable = (error: PaylinkError) => {
    report(error);
    return page({
      title: "Try again",
      body: messageBody("Something went wrong", `${error.message} Please try again.`),
      section: null,
      status: error.code === "conflict" ? 409 : 503,
    });
  };
  const notFound = (what = "There is no payment link at this address.") =>
    page({ title: "Not found", body: notFoundBody(what), section: null, status: 404 });

  /** Every payment of the demo scope, newest first, read page by page. */
  async function listAll(): Promise<Payment[] | PaylinkError> {
    const all: Payment[] = [];
    for (;;) {
      const last = all.at(-1)?.id;
      const batch = await links.list(
        scope,
        last === undefined ? { limit: LIST_PAGE } : { limit: LIST_PAGE, startingAfter: last },
      );
      if (batch.isErr()) return batch.error;
      all.push(...batch.value);
      if (batch.value.length < LIST_PAGE || all.length >= LIST_MAX) return all;
    }
  }

  /**
   * Where a link with a provider object is paid, or `undefined` for a payment without one (which is paid
   * here, through the machine, as always).
   */
  function atProvider(payment: Payment): AtProvider | undefined {
    const reference = payment.providerState?.reference;
    if (reference == null) return undefined;
    const provider = options.provider;
    if (provider === undefined || payment.provider !== provider.name)
      return { kind: "unconnected", provider: payment.provider };
    if (provider.test === undefined) return { kind: "hosted", provider: provider.name, url: payment.url };
    return { kind: "test", reference, status: provider.test.gateway.link(reference)?.status ?? "unknown" };
  }

  async function payPage(request: Request, id: string): Promise<Response> {
    // Opening the page records a view; a HEAD only reads.
    const read = request.method === "HEAD" ? await links.get(scope, id) : await links.view(scope, id);
    if (read.isErr()) return read.error.code === "not_found" ? notFound() : unavailable(read.error);
    const payment = read.value;
    const asked = new URL(request.url).searchParams.get("result");
    const result = asked !== null && Object.hasOwn(PAY_RESULTS, asked) ? (asked as PayResult) : undefined;
    const title = payment.kind === "link" ? "Pay" : "Charge";
    return page({
      title: `${title} ${payment.id}`,
      body: payPageBody(payment, clock.now(), result, atProvider(payment)),
      section: null,
    });
  }

  async function pay(form: URLSearchParams, id: string): Promise<Response> {
    const back = (result: PayResult) => redirect(`/pay/${encodeURIComponent(id)}?result=${result}`);
    // No field at all: the default test card (so `curl -X POST …/pay` pays, as the form's default does).
    const card = (form.get("card") ?? TEST_CARDS.success).replace(/[\s-]/g, "");
    const succeeds = card === TEST_CARDS.success.replace(/ /g, "");
    const declined = card === TEST_CARDS.declined.replace(/ /g, "");
    const current = await links.get(scope, id);
    if (current.isErr()) return current.error.code === "not_found" ? notFound() : unavailable(current.error);
    // A charge is collected directly, never through its page.
    if (current.value.kind !== "link") return back("not_payable");
    if (!succeeds && !declined) return back("unknown_card");
    const at = atProvider(current.value);
    if (at !== undefined) {
      // Stripe's and DNA's links are paid on their own pages; only the test provider's here.
      if (at.kind !== "test") return back("not_payable");
      return payAtTestProvider(id, at.reference, succeeds, back);
    }
    const started = await links.startPayment(scope, id);
    if (started.isErr()) {
      if (started.error.code === "not_found") return notFound();
      if (started.error.code === "link_not_payable") return back("not_payable");
      return unavailable(started.error);
    }
    const outcome = succeeds ? await links.paymentSucceeded(scope, id) : await links.paymentFailed(scope, id);
    if (outcome.isErr()) return unavailable(outcome.error);
    return back(succeeds ? "paid" : "declined");
  }

  /**
   * The customer pays (or is declined) at the test provider, which answers with its signed webhook; that
   * webhook is delivered to this server's own `POST /webhooks/test`, the intake every provider webhook
   * goes through (verified, recorded once, the machine decides). Whether the link is open here does not
   * matter to the provider: paying a link canceled here but not yet stopped there is a late payment.
   */
  async function payAtTestProvider(
    id: string,
    reference: string,
    succeeds: boolean,
    back: (result: PayResult) => Response,
  ): Promise<Response> {
    const test = options.provider!.test!;
    const answer = succeeds
      ? await test.gateway.pay(reference, TEST_CARDS.success)
      : await test.gateway.fail(reference);
    if (answer.outcome === "not_payable" || answer.outcome === "invalid_card") return back("not_payable");
    // As a provider does, a webhook the intake could not take now (409 in flight, 5xx) is sent again.
    let delivered = await options.provider!.deliverWebhook(answer.webhook);
    for (
      let retry = 1;
      retry <= WEBHOOK_RETRIES && (delivered.status === 409 || delivered.status >= 500);
      retry++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200 * retry));
      delivered = await options.provider!.deliverWebhook(answer.webhook);
    }
    if (!delivered.ok) {
      console.error(`[demo pages] the test provider's webhook for ${id} answered ${delivered.status}`);
      return page({
        title: "Try again",
        body: messageBody(
          "The payment was not recorded",
          `The test provider ${answer.outcome === "paid" ? "took the payment" : "declined the card"}, but this server's webhook intake answered ${delivered.status}, ${WEBHOOK_RETRIES + 1} times: it is not recorded here (see the server's console).`,
        ),
        section: null,
        status: 503,
      });
    }
    if (answer.outcome === "declined") return back("declined");
    const now = await links.get(scope, id);
    if (now.isErr()) return unavailable(now.error);
    return back(now.value.status === "paid" ? "paid" : "paid_late");
  }

  /** Switches the test provider's outage (`kind`) on, or off (`restore`). */
  function switchOutage(form: URLSearchParams, restore: boolean): Response {
    const test = options.provider?.test;
    if (test === undefined) return notFound("There is no page at this address.");
    if (restore) {
      test.restore();
      return redirect("/?done=provider_restored");
    }
    const kind = TEST_OUTAGES.find((outage) => outage === form.get("kind"));
    if (kind === undefined) return redirect("/?error=invalid_outage");
    test.startOutage(kind);
    return redirect(`/?${new URLSearchParams({ done: "provider_outage", outage: kind })}`);
  }

  /**
   * One page of the merchant's table: the newest {@link MERCHANT_PAGE_SIZE}, or those after the cursor
   * `?starting_after=<id>` (the last id of the previous page). A cursor that is not an id, or names no
   * payment of the scope, shows an empty page that says so, with the link back to the newest.
   */
  async function merchantPage(request: Request): Promise<Response> {
    const query = new URL(request.url).searchParams;
    const asked = query.get("starting_after");
    const cursor = asked === null || asked === "" ? null : asked;
    let payments: Payment[] = [];
    if (cursor === null || ID.test(cursor)) {
      // One more than shown: whether it exists decides the "Older" link, without a count.
      const limit = MERCHANT_PAGE_SIZE + 1;
      const read = await links.list(scope, cursor === null ? { limit } : { limit, startingAfter: cursor });
      if (read.isErr()) return unavailable(read.error);
      payments = read.value;
    }
    const shown = payments.slice(0, MERCHANT_PAGE_SIZE);
    const older = payments.length > MERCHANT_PAGE_SIZE ? shown.at(-1)!.id : null;
    // The lag is a reading, not the page's purpose: a store that cannot answer it leaves the line out.
    const lag = await options.lag?.().catch(() => undefined);
    return page({
      title: "Payments · Paylink demo",
      body: merchantPageBody(
        shown,
        clock.now(),
        merchantFlash(query),
        { cursor, older },
        lag,
        merchantProvider(),
      ),
      section: "payments",
    });
  }

  /** The provider line of the merchant page. */
  function merchantProvider() {
    const provider = options.provider;
    if (provider === undefined) return undefined;
    return {
      name: provider.name,
      webhookUrl: provider.webhookUrl,
      ...(provider.test === undefined ? {} : { outage: provider.test.outage() }),
    };
  }

  async function cancel(form: URLSearchParams, id: string): Promise<Response> {
    const outcome = await links.cancel(scope, id);
    // Back to the page the button was on (the form sends its cursor), so the row is in view again.
    const from = form.get("starting_after");
    const at: Record<string, string> = from !== null && ID.test(from) ? { starting_after: from } : {};
    const to = (query: Record<string, string>) =>
      redirect(`/?${new URLSearchParams({ ...query, ...at })}#${encodeURIComponent(id)}`);
    if (outcome.isOk())
      return to({ done: outcome.value.changed ? "canceled" : "already_canceled", payment: id });
    const error = outcome.error;
    if (error.code === "store_unavailable" || error.code === "invalid_request") return unavailable(error);
    return to({ error: error.code, payment: id, ...("status" in error ? { status: error.status } : {}) });
  }

  async function create(form: URLSearchParams): Promise<Response> {
    const currency = (form.get("currency") ?? "").trim().toUpperCase();
    if (!isCurrency(currency)) return redirect("/?error=invalid_currency");
    const minor = toMinorUnits((form.get("amount") ?? "").trim(), currency);
    if (minor === undefined || minor <= 0) return redirect(`/?error=invalid_amount&currency=${currency}`);
    const description = (form.get("description") ?? "").trim();
    const created = await links.create(scope, {
      kind: "link",
      customerId: "cus_demo",
      provider: "stripe",
      amountSubtotal: minor,
      taxAmount: 0,
      currency,
      description: description === "" ? null : description,
      metadata: { source: "merchant page" },
      expiresAt: new Date(clock.now().getTime() + LINK_LIFETIME_MS),
    });
    if (created.isErr()) {
      if (created.error.code === "invalid_request") return redirect("/?error=invalid_description");
      // The provider makes the link's object first: in an outage nothing is created (retrying is safe).
      if (created.error.code === "provider_unavailable" || created.error.code === "provider_refused") {
        report(created.error);
        return redirect(`/?error=${created.error.code}`);
      }
      return unavailable(created.error);
    }
    const id = created.value.id;
    return redirect(`/?${new URLSearchParams({ done: "created", payment: id })}#${encodeURIComponent(id)}`);
  }

  async function lifecyclePage(): Promise<Response> {
    const payments = await listAll();
    if (!Array.isArray(payments)) return unavailable(payments);
    const counts = new Map<string, number>();
    for (const payment of payments) {
      const key = `${payment.kind}/${payment.status}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const count = (kind: Kind, status: Status) => counts.get(`${kind}/${status}`) ?? 0;
    let svg: string | null;
    try {
      svg = await lifecycleSvg(count);
    } catch (error) {
      console.error(`[demo pages] the lifecycle diagram could not be rendered: ${String(error)}`);
      svg = null;
    }
    return page({
      title: "Lifecycle · Paylink demo",
      body: lifecyclePageBody(svg, count),
      section: "lifecycle",
    });
  }

  return async (request) => {
    const { pathname } = new URL(request.url);
    const read = request.method === "GET" || request.method === "HEAD";
    const post = request.method === "POST";
    // Matched segment by segment, each decoded alone: decoding the whole path first would turn
    // `/pay/x%2Fpay` into the pay action of `x` (the API's router answers it 404, so must the pages).
    const segments = pathSegments(pathname);
    if (segments === undefined) {
      return pathname.startsWith("/pay/") || pathname.startsWith("/merchant/") ? notFound() : undefined;
    }
    const path = segments.length === 1 ? segments[0] : undefined;
    if (path === "") return read ? merchantPage(request) : methodNotAllowed("GET, HEAD");
    if (path === "lifecycle") return read ? lifecyclePage() : methodNotAllowed("GET, HEAD");

    const [first, second, third, fourth] = segments;
    const n = segments.length;
    const payMatch = first === "pay" && (n === 2 || (n === 3 && third === "pay"));
    const underPayments = first === "merchant" && second === "payments";
    const cancelMatch = underPayments && n === 4 && fourth === "cancel";
    const createMatch = underPayments && n === 2;
    const outageMatch =
      first === "merchant" && second === "provider" && n === 3 && (third === "outage" || third === "restore");
    if (!payMatch && !cancelMatch && !createMatch && !outageMatch) {
      return (first === "pay" || first === "merchant") && n > 1
        ? notFound("There is no page at this address.")
        : undefined;
    }
    // Decoded, an id is checked whole: a `/`, a NUL or anything else outside the pattern is a 404.
    const id = payMatch ? second : cancelMatch ? third : undefined;
    if (id !== undefined && !ID.test(id)) return notFound();

    if (payMatch && n === 2) return read ? payPage(request, id!) : methodNotAllowed("GET, HEAD");
    // The form actions.
    if (!post) return methodNotAllowed("POST");
    if (isCrossOrigin(request, hosts)) {
      return page({
        title: "Refused",
        body: messageBody("Refused", "This form can only be sent from a page of this server."),
        section: null,
        status: 403,
      });
    }
    const form = await readForm(request, FORM_LIMIT_BYTES);
    if (form === "too_large") {
      return page({
        title: "Too large",
        body: messageBody("Too large", "The form is too large."),
        section: null,
        status: 413,
      });
    }
    if (form === "type") {
      return page({
        title: "Unsupported form",
        body: messageBody("Unsupported form", "Send the form as application/x-www-form-urlencoded."),
        section: null,
        status: 415,
      });
    }
    if (payMatch) return pay(form, id!);
    if (cancelMatch) return cancel(form, id!);
    if (outageMatch) return switchOutage(form, third === "restore");
    return create(form);
  };
}

const STATUS_SET = new Set<string>(STATUSES);

/**
 * The message after a merchant action, rebuilt from the redirect's query: fixed texts and core's own
 * error messages, with the payment id and status (both checked) as the only variable parts.
 */
export function merchantFlash(query: URLSearchParams): MerchantFlash | undefined {
  const rawId = query.get("payment");
  const id = rawId !== null && ID.test(rawId) ? rawId : "the payment";
  const status = query.get("status");
  const done = query.get("done");
  if (done === "canceled") return { ok: true, text: `${id} was canceled.` };
  if (done === "already_canceled") return { ok: true, text: `${id} was already canceled; nothing changed.` };
  if (done === "created") return { ok: true, text: `Payment link ${id} was created.` };
  if (done === "provider_restored")
    return {
      ok: true,
      text: "The test provider answers again: waiting stops and refunds go through shortly.",
    };
  if (done === "provider_outage") {
    const outage = TEST_OUTAGES.find((kind) => kind === query.get("outage"));
    return {
      ok: true,
      text: `The test provider is now in an outage${outage === undefined ? "" : ` (${outage})`}: stops and refunds wait, and creating a link fails, until you restore it.`,
    };
  }
  const error = query.get("error");
  if (error === null) return undefined;
  const failed = (message: string) => ({ ok: false, text: `Could not cancel ${id}: ${message}` });
  switch (error) {
    case "payment_not_cancelable":
      return failed(
        status !== null && STATUS_SET.has(status)
          ? errors.paymentNotCancelable(id, status as Status).message
          : "its status does not allow a cancel.",
      );
    case "charge_not_cancelable":
      return failed(errors.chargeNotCancelable(id).message);
    case "not_found":
      return failed(errors.notFound(id).message);
    case "conflict":
      return failed(errors.conflict(id).message);
    case "invalid_amount": {
      const currency = query.get("currency");
      const known = currency !== null && (FORM_CURRENCIES as readonly string[]).includes(currency);
      return {
        ok: false,
        text: `Enter an amount greater than zero${known ? `, with no more decimals than ${currency} has` : ""}, e.g. 12.50.`,
      };
    }
    case "invalid_currency":
      return { ok: false, text: "Choose a currency from the list." };
    case "invalid_description":
      return {
        ok: false,
        text: "The description is too long (at most 1000 characters) or holds a NUL character.",
      };
    case "invalid_outage":
      return { ok: false, text: "Choose one of the outages: refused, 500, 429 or hang." };
    case "provider_unavailable":
      return {
        ok: false,
        text: "The payment provider could not be reached, so no link was created. Try again.",
      };
    case "provider_refused":
      return {
        ok: false,
        text: "The payment provider refused to create the link (see the server's console).",
      };
    case "invalid_form":
      return { ok: false, text: "The form could not be read." };
    default:
      return undefined;
  }
}
