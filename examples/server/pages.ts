/**
 * The demo's HTML pages, as pure functions of the payments they show. Whether a payment can be paid or
 * canceled is the machine's answer (`can` from core), never a list of statuses written here.
 */
import {
  CHARGE_STATUSES,
  can,
  type Kind,
  LINK_STATUSES,
  type Payment,
  type ProviderState,
  type Status,
  toMajorUnits,
} from "@paylink/core";
import type { TestLinkStatus, TestOutage } from "@paylink/gateway-test";
import type { SinkLag } from "@paylink/relay";
import { type Fragment, type Html, html, trusted } from "./html.js";
import { TEST_OUTAGES } from "./provider.js";

/** The demo's test cards: the first succeeds, the second is declined. */
export const TEST_CARDS = { success: "4242 4242 4242 4242", declined: "4000 0000 0000 0002" } as const;

/** A card number that never wraps in the middle. */
const unbroken = (card: string) => card.replace(/ /g, "\u00a0");

/** Currencies offered by the merchant page's create form: exponents 2, 0 and 3. */
export const FORM_CURRENCIES = ["GBP", "EUR", "USD", "JPY", "KWD"] as const;

/** An amount exactly as its currency writes it, e.g. `12.00 GBP`, `1500 JPY`, `1.250 KWD`. */
export const formatAmount = (minor: number, currency: string): string =>
  `${toMajorUnits(minor, currency) ?? `${minor} (minor units)`} ${currency}`;

const formatDate = (iso: string | null): string =>
  iso === null ? "—" : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

const STATUS_WORDS: Record<Status, string> = {
  pending: "Awaiting payment",
  viewed: "Awaiting payment",
  attempted: "Awaiting payment (the last attempt failed)",
  processing: "Payment in progress",
  paid: "Paid",
  canceled: "Canceled",
  expired: "Expired",
  failed: "Failed",
};

/** The status as a small colored badge (the status name, as the API spells it). */
export const badge = (status: Status): Html => html`<span class="badge s-${status}">${status}</span>`;

/** What the hosted page says when it offers no pay form. */
function closedMessage(payment: Payment): Html {
  const text: Partial<Record<Status, string>> = {
    paid: "This payment link has been paid. Thank you!",
    canceled: "This payment link was canceled. It can no longer be paid.",
    expired: "This payment link has expired. It can no longer be paid.",
    processing: "A payment for this link is in progress. It cannot be paid again while it is processing.",
  };
  const cls = payment.status === "paid" ? "paid" : payment.status === "canceled" ? "canceled" : "";
  return html`<p class="final ${cls}" role="status">${text[payment.status] ?? "This payment link cannot be paid now."}</p>`;
}

/** Results of the pay form, shown once after its redirect (`?result=`). */
export const PAY_RESULTS = {
  paid: { ok: true, text: "Payment successful." },
  declined: {
    ok: false,
    text: `Your card was declined (test card ${unbroken(TEST_CARDS.declined)}). Nothing was charged; you can try again.`,
  },
  unknown_card: {
    ok: false,
    text: `That is not a test card, so nothing happened. Use ${unbroken(TEST_CARDS.success)} (succeeds) or ${unbroken(TEST_CARDS.declined)} (declined). This demo never takes real card numbers.`,
  },
  not_payable: { ok: false, text: "This link could not be paid: see its status below." },
  paid_late: {
    ok: false,
    text: "The test provider took your payment, but this link had been canceled (or had expired) at the merchant: the merchant's system refunds it automatically.",
  },
} as const;
/** A result the pay form's redirect may name (`?result=`); any other value shows nothing. */
export type PayResult = keyof typeof PAY_RESULTS;

const flash = (message: { ok: boolean; text: Fragment } | undefined): Html | "" =>
  message === undefined
    ? ""
    : message.ok
      ? html`<p class="notice" role="status">${message.text}</p>`
      : html`<p class="error" role="alert">${message.text}</p>`;

/**
 * Where the customer of a link with a provider object (`providerState.reference`) pays it:
 * - `test`: at the in-process test provider, through this page's form, while the provider's link is
 *   `open` (`unknown` when the provider does not know the link: it keeps links in memory only);
 * - `hosted`: on the provider's own page (Stripe, DNA), the payment's `url`;
 * - `unconnected`: at a provider this server is not running with, so nowhere from here.
 */
export type AtProvider =
  | { readonly kind: "test"; readonly reference: string; readonly status: TestLinkStatus | "unknown" }
  | { readonly kind: "hosted"; readonly provider: string; readonly url: string }
  | { readonly kind: "unconnected"; readonly provider: string };

const LOCALLY_CLOSED = new Set<Status>(["canceled", "expired"]);

/** What the hosted page says of a link paid at its provider. */
interface ProviderNote {
  /** Whether the pay form is offered. */
  readonly payable: boolean;
  readonly note: Html | "";
  /** The note says why the link cannot be paid: the usual closed message is left out. */
  readonly final?: true;
}

/** The note under the status of a link paid at its provider, and whether its form is offered. */
function providerNote(payment: Payment, at: AtProvider, now: Date): ProviderNote {
  const closedHere = LOCALLY_CLOSED.has(payment.status);
  const word = payment.status === "expired" ? "Expired" : "Canceled";
  if (at.kind === "test") {
    if (at.status === "open")
      return {
        payable: true,
        note: closedHere
          ? html`<p class="error" role="status" data-field="provider-note">${word} here, not yet stopped at the provider: the test provider still takes a payment, which the merchant's system then refunds (a late payment).</p>`
          : html`<p class="hint" data-field="provider-note">You pay at the test provider (in this server's process); its signed webhook reports the payment to the merchant.</p>`,
      };
    if (at.status === "unknown")
      return {
        payable: false,
        final: true,
        note: html`<p class="final" role="status" data-field="provider-note">The test provider does not know this link: it keeps its links in memory, and the server has restarted since the link was made. It cannot be paid.</p>`,
      };
    return {
      payable: false,
      note:
        at.status === "paid" && closedHere
          ? html`<p class="hint" data-field="provider-note">The test provider took a payment after the link was ${payment.status} here: the merchant's system refunds it.</p>`
          : at.status === "stopped"
            ? html`<p class="hint" data-field="provider-note">Stopped at the provider too.</p>`
            : "",
    };
  }
  if (at.kind === "hosted") {
    // Only a web address is linked: the URL is the provider's answer, not ours.
    if (!can(payment, "START_PAYMENT", now) || !/^https?:\/\//i.test(at.url))
      return { payable: false, note: "" };
    return {
      payable: false,
      final: true,
      note: html`<p class="notice" data-field="provider-note">This link is paid at ${at.provider}: <a href="${at.url}">pay on ${at.provider}'s page</a>.</p>`,
    };
  }
  return {
    payable: false,
    final: true,
    note: html`<p class="final" role="status" data-field="provider-note">This link is hosted by the provider "${at.provider}", which this server is not running with (PAYLINK_PROVIDER): it cannot be paid here.</p>`,
  };
}

/**
 * The customer's hosted page of one payment. `atProvider` is given for a link with a provider object:
 * the pay form is then offered while the test provider's link is open (even on a link canceled here:
 * that is a late payment), never for another provider. Without it the machine decides, as always.
 */
export function payPageBody(
  payment: Payment,
  now: Date,
  result: PayResult | undefined,
  atProvider?: AtProvider,
): Html {
  const amount = formatAmount(payment.amountTotal, payment.currency);
  const isLink = payment.kind === "link";
  const viaProvider = isLink && atProvider !== undefined ? providerNote(payment, atProvider, now) : undefined;
  const payable = viaProvider?.payable ?? (isLink && can(payment, "START_PAYMENT", now));
  const action = `/pay/${encodeURIComponent(payment.id)}/pay`;
  const form = html`<form method="post" action="${action}" class="pay">
<label for="card">Card number</label>
<input id="card" class="card-number" name="card" value="${TEST_CARDS.success}" inputmode="numeric" autocomplete="off" maxlength="32" required>
<button class="wide" type="submit">Pay (test mode)</button>
<p class="hint">Test cards: <span class="mono">${unbroken(TEST_CARDS.success)}</span> succeeds, <span class="mono">${unbroken(TEST_CARDS.declined)}</span> is declined.</p>
</form>`;
  const closed = isLink
    ? closedMessage(payment)
    : html`<p class="final" role="status">This is a charge, not a payment link: it is collected directly, so there is nothing to pay on this page.</p>`;
  return html`<main class="narrow"><div class="card">
<p class="muted small"><span class="testmode">Test mode</span> Paylink demo · ${isLink ? "payment link" : "charge"}</p>
${flash(result === undefined ? undefined : PAY_RESULTS[result])}
<p class="description" data-field="description">${payment.description ?? "Payment"}</p>
<p class="amount" data-field="amount">${amount}</p>
<p class="breakdown">${formatAmount(payment.amountSubtotal, payment.currency)} + tax ${formatAmount(payment.taxAmount, payment.currency)}</p>
<p>Status: <strong data-field="status-words">${STATUS_WORDS[payment.status]}</strong> ${badge(payment.status)}</p>
${viaProvider?.note ?? ""}
${payable ? form : viaProvider?.final ? "" : closed}
<dl class="facts">
<dt>Link</dt><dd class="mono">${payment.id}</dd>
${isLink ? html`<dt>Expires</dt><dd>${formatDate(payment.expiresAt)}</dd>` : ""}
${payment.paidAt === null ? "" : html`<dt>Paid</dt><dd>${formatDate(payment.paidAt)}</dd>`}
${payment.canceledAt === null ? "" : html`<dt>Canceled</dt><dd>${formatDate(payment.canceledAt)}</dd>`}
${payment.providerState?.reference == null ? "" : html`<dt>Provider</dt><dd class="mono">${payment.provider} · ${payment.providerState.reference}</dd>`}
</dl>
</div></main>
<footer>A hosted payment page of the Paylink demo server. No real payment is made.</footer>`;
}

/** The 404 page of `/pay/{id}` and unknown page paths. */
export const notFoundBody = (what: string): Html =>
  html`<main class="narrow"><div class="card"><h1>Not found</h1><p>${what}</p>
<p class="muted small">Check the link you were sent, or ask the merchant for a new one.</p></div></main>`;

/** A one-message page (refusals, store failures). */
export const messageBody = (title: string, text: string): Html =>
  html`<main class="narrow"><div class="card"><h1>${title}</h1><p>${text}</p><p><a href="/">Back to the payments</a></p></div></main>`;

/** A message above the merchant's table, after a redirect. */
export interface MerchantFlash {
  readonly ok: boolean;
  readonly text: string;
}

/** Where a page of the merchant's table is in the list, as cursors (payment ids). */
export interface MerchantPaging {
  /** The cursor this page starts after (`?starting_after=`), or `null` on the newest page. */
  readonly cursor: string | null;
  /** The cursor of the next, older page (this page's last id), or `null` when there is none. */
  readonly older: string | null;
}

/** Rows of the merchant page: bounded, so the page costs the same with 10 payments or 10 million. */
export const MERCHANT_PAGE_SIZE = 50;

const NEWEST: MerchantPaging = { cursor: null, older: null };

/** The payment provider as the merchant page shows it. */
export interface MerchantProvider {
  /** `test`, `stripe` or `dna`. */
  readonly name: string;
  /** Where its webhooks come in. */
  readonly webhookUrl: string;
  /**
   * For the test provider only: the outage its API is in (`null` when it answers), which the page can
   * switch (`POST /merchant/provider/outage`, `POST /merchant/provider/restore`).
   */
  readonly outage?: TestOutage | null;
}

/** What the outage buttons of the test provider do, in words. */
const OUTAGE_WORDS: Record<TestOutage, string> = {
  refused: "refuses connections",
  "500": "answers HTTP 500",
  "429": "answers HTTP 429 (Retry-After: 2 s)",
  hang: "never answers (the gateway gives up after its timeout)",
};

/** The stop of a link's provider object, in words: `open`, `stop pending`, `stopped ✓`, `stop refused: …`. */
function stopWords(state: ProviderState, status: Status): string {
  switch (state.stop) {
    case "none":
      return status === "paid" ? "paid" : "open";
    case "pending":
      return "stop pending";
    case "confirmed":
      return "stopped ✓";
    case "refused":
      return `stop refused: ${state.stopDetail ?? "(no reason given)"}`;
  }
}

/** The refund of a late payment, in words. */
function refundWords(state: ProviderState): string {
  switch (state.refund) {
    case "none":
      return "refund pending";
    case "pending":
      return `refund pending at the provider ${state.refundReference ?? ""}`.trimEnd();
    case "succeeded":
      return `refund succeeded ${state.refundReference ?? ""}`.trimEnd();
    case "refused":
      return `refund refused: ${state.refundDetail ?? "(no reason given)"}`;
  }
}

/**
 * The Provider cell of a payment: `—` without a provider object; else the stop and, for a payment the
 * provider took on a canceled or expired link, the late payment and its refund.
 */
function providerCell(payment: Payment): Html {
  const state = payment.providerState;
  if (state === undefined) return html`<td data-field="provider"><span class="muted">—</span></td>`;
  const late = state.paymentReference !== null && LOCALLY_CLOSED.has(payment.status);
  return html`<td class="small" data-field="provider" data-stop="${state.stop}" data-refund="${late ? state.refund : ""}">${
    state.reference === null ? "" : html`<div class="mono muted">${state.reference}</div>`
  }<div data-field="stop">${stopWords(state, payment.status)}</div>${
    late
      ? html`<div data-field="late-payment"><span class="badge s-failed">late payment</span> <span class="mono">${state.paymentReference}</span> · ${refundWords(state)}</div>`
      : ""
  }</td>`;
}

/** The line about the provider above the table; for the test provider, its outage switches. */
function providerSection(provider: MerchantProvider | undefined): Html | "" {
  if (provider === undefined)
    return html`<p class="small muted" data-field="provider-line">No payment provider (PAYLINK_PROVIDER=none): links have no provider object.</p>`;
  const line = html`<p class="small" data-field="provider-line">Provider: <strong>${provider.name}</strong> · its webhooks come in at <span class="mono">${provider.webhookUrl}</span>. A cancel (or expiry) is carried to it by the relay: <em>stop pending</em> until it confirms.</p>`;
  if (provider.outage === undefined) return line;
  const state =
    provider.outage === null
      ? html`<span data-field="outage" data-outage="none">answering normally</span>`
      : html`<span class="badge s-canceled" data-field="outage" data-outage="${provider.outage}">outage: ${provider.outage}</span> its API ${OUTAGE_WORDS[provider.outage]}`;
  const buttons = TEST_OUTAGES.map(
    (kind) =>
      html` <button class="danger" type="submit" name="kind" value="${kind}" title="The API ${OUTAGE_WORDS[kind]}">${kind}</button>`,
  );
  return html`${line}
<div class="small" data-field="test-provider">Test provider: ${state}.
<form class="inline" method="post" action="/merchant/provider/outage"> Outage:${buttons}</form>
<form class="inline" method="post" action="/merchant/provider/restore"> <button class="danger" type="submit">restore</button></form>
<p class="hint">In an outage, stops and refunds wait (the relay retries them with backoff) and new links cannot be created; the customer's side still works, so a link canceled here can still be paid on its page.</p></div>`;
}

/**
 * The merchant page: one page of the demo account's payments (the caller reads it, newest first), a
 * Cancel button where the machine allows it, links to the newest and the next older page, each link's
 * state at its provider (stop, late payment, refund) and, with `provider`, the provider's line (for the
 * test provider, its outage switches). Without `provider` the page says there is none.
 */
export function merchantPageBody(
  payments: readonly Payment[],
  now: Date,
  message?: MerchantFlash,
  paging: MerchantPaging = NEWEST,
  lag?: readonly SinkLag[],
  provider?: MerchantProvider,
): Html {
  const { cursor, older } = paging;
  // A cancel on an older page sends its cursor along, so the redirect comes back to that page.
  const stay = cursor === null ? "" : html`<input type="hidden" name="starting_after" value="${cursor}">`;
  const rows = payments.map((payment) => {
    const cancel = can(payment, "CANCEL", now)
      ? html`<form class="inline" method="post" action="/merchant/payments/${encodeURIComponent(payment.id)}/cancel">${stay}<button class="danger" type="submit" aria-label="Cancel ${payment.id}">Cancel</button></form>`
      : html`<span class="muted">—</span>`;
    const metadata = Object.entries(payment.metadata ?? {});
    return html`<tr id="${payment.id}" data-id="${payment.id}" data-status="${payment.status}" data-kind="${payment.kind}">
<td><a class="mono" href="/pay/${encodeURIComponent(payment.id)}">${payment.id}</a></td>
<td>${payment.kind}</td>
<td>${badge(payment.status)}</td>
<td class="num" data-field="amount">${formatAmount(payment.amountTotal, payment.currency)}</td>
<td class="desc"><div data-field="description">${payment.description ?? ""}</div>${
      metadata.length === 0
        ? ""
        : html`<details class="meta"><summary>metadata (${metadata.length})</summary><div data-field="metadata">${metadata.map(([key, value]) => html`<div>${key}: ${String(value)}</div>`)}</div></details>`
    }</td>
<td class="small">${formatDate(payment.createdAt)}</td>
${providerCell(payment)}
<td>${cancel} <a class="small" href="/merchant/events?payment=${encodeURIComponent(payment.id)}">events</a></td>
</tr>`;
  });
  const cancelable = payments.filter((payment) => can(payment, "CANCEL", now)).length;
  const empty =
    cursor === null
      ? "No payments yet."
      : "No older payments here: this was the last page, or the link to it is out of date.";
  const pager =
    cursor === null && older === null
      ? ""
      : html`<nav class="pager" aria-label="Pages of payments">${
          cursor === null ? "" : html`<a href="/" rel="first">Newest</a>`
        }${older === null ? "" : html`<a href="/?${new URLSearchParams({ starting_after: older }).toString()}" rel="next">Older</a>`}</nav>`;
  return html`<main>
<h1>Payments</h1>
<p class="lead">The payments of the demo account, newest first, ${MERCHANT_PAGE_SIZE} a page${cursor === null ? "" : " (an older page)"}: ${payments.length} on this page, ${cancelable} can be canceled now. The Cancel button appears only where the lifecycle machine allows a cancel.</p>
${message === undefined ? "" : flash(message)}
${providerSection(provider)}
${lag === undefined ? "" : html`<p class="small" data-field="relay">Event delivery: ${lag.map((l, i) => html`${i > 0 ? " · " : ""}<span data-sink="${l.sink}">${l.sink} ${l.events === 0 ? "caught up" : `${l.events} behind (${l.seconds.toFixed(0)} s)`}</span>`)} — <a href="/merchant/events">events &amp; webhooks</a></p>`}
<table>
<thead><tr><th>ID</th><th>Kind</th><th>Status</th><th class="num">Amount</th><th>Description</th><th>Created</th><th>Provider</th><th>Action</th></tr></thead>
<tbody>${rows.length === 0 ? html`<tr><td colspan="8" class="muted">${empty}</td></tr>` : rows}</tbody>
</table>
${pager}
<h2>Create a payment link</h2>
<form class="create" method="post" action="/merchant/payments">
<div class="grow"><label for="description">Description</label><input id="description" name="description" maxlength="1000" placeholder="For cappuccino"></div>
<div><label for="amount">Amount</label><input id="amount" name="amount" inputmode="decimal" required size="10" placeholder="12.50"></div>
<div><label for="currency">Currency</label><select id="currency" name="currency">${FORM_CURRENCIES.map((code) => html`<option>${code}</option>`)}</select></div>
<div><button type="submit">Create link</button></div>
</form>
<p class="hint">The link expires in 7 days. Open its ID to see the customer's page.</p>
</main>
<footer>Merchant page of the Paylink demo (account acct_demo, test mode). It works without JavaScript.</footer>`;
}

/** The statuses of each kind, in the machine's order, for the count table. */
export const KIND_STATUSES: ReadonlyArray<readonly [Kind, readonly Status[]]> = [
  ["link", LINK_STATUSES],
  ["charge", CHARGE_STATUSES],
];

/** The lifecycle page: the generated diagram (trusted SVG from Graphviz) and the counts per status. */
export function lifecyclePageBody(svg: string | null, count: (kind: Kind, status: Status) => number): Html {
  let total = 0;
  const rows = KIND_STATUSES.flatMap(([kind, statuses]) =>
    statuses.map((status, index) => {
      const n = count(kind, status);
      total += n;
      const head =
        index === 0
          ? html`<th scope="rowgroup" rowspan="${statuses.length}" class="kind">${kind === "link" ? "Payment link" : "Charge"}</th>`
          : "";
      return html`<tr data-kind="${kind}" data-status="${status}">${head}<td>${badge(status)}</td><td class="num" data-field="count">${n}</td></tr>`;
    }),
  );
  const figure =
    svg === null
      ? html`<p class="error" role="alert">The diagram could not be rendered (Graphviz did not load); the counts are on the right.</p>`
      : html`<figure>${trusted(svg)}<figcaption>Generated from <code>lifecycleMachine</code> (<code>toDot()</code>, rendered by Graphviz). Red: cancel; dashed: expiry; dotted: a late payment is recorded. Under each status: the demo account's payments in it now.</figcaption></figure>`;
  return html`<main class="wide">
<h1>The payment lifecycle</h1>
<p class="lead">Every status a payment can be in and every event that moves it, drawn from the same machine the commands use.</p>
<div class="lifecycle">
${figure}
<div><table class="counts">
<thead><tr><th>Kind</th><th>Status</th><th class="num">Payments</th></tr></thead>
<tbody>${rows}<tr class="total"><td colspan="2">All payments</td><td class="num" data-field="total">${total}</td></tr></tbody>
</table>
<p class="hint">Counts of account acct_demo (test mode), read with <code>links.list</code>. See them on the <a href="/">payments page</a>.</p></div>
</div>
</main>`;
}
