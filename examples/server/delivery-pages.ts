/**
 * The demo's pages about event delivery: `/merchant/events` (the relay's lag per sink, each webhook
 * endpoint with its deliveries, and the events of the account or of one payment) and `/demo/webhooks`
 * (what the demo's own receiver got, each signature verified). Server-rendered, no JavaScript, like the
 * other pages (`web.ts`).
 */
import type { PaylinkError, Scope } from "@paylink/core";
import type { EventFeed, StoredEvent, WebhookDelivery, WebhookEndpoint } from "@paylink/core/store";
import type { Relay } from "@paylink/relay";
import type { WebhookEndpoints } from "@paylink/webhooks";
import type { AllowedHosts } from "./hosts.js";
import { type Fragment, type Html, html, page } from "./html.js";
import { messageBody } from "./pages.js";
import { INBOX_PATH, type Received, type Receiver } from "./receiver.js";
import { isCrossOrigin, readForm } from "./web.js";

/** Options of {@link createDeliveryPages}. */
export interface DeliveryPagesOptions {
  readonly scope: Scope;
  readonly events: EventFeed;
  readonly endpoints: WebhookEndpoints;
  readonly relay: Relay;
  readonly receiver: Receiver;
  readonly hosts: AllowedHosts;
  /** The server's base URL (`http://127.0.0.1:3000`): the inbox's URL is built from it. */
  readonly base: string;
  /** The API key shown in the curl line that registers an endpoint. */
  readonly apiKey: string;
}

/** Events per page of `/merchant/events`, deliveries shown per endpoint. */
export const EVENTS_PAGE_SIZE = 50;
export const DELIVERIES_SHOWN = 10;
const ID = /^[A-Za-z0-9_.:-]{1,255}$/;

/** The curl line that registers the demo's inbox as a webhook endpoint. */
export const registerCurl = (base: string, apiKey: string): string =>
  `curl -X POST ${base}/webhook_endpoints -H "x-api-key: ${apiKey}" -H "content-type: application/json" -d '{"url":"${base}${INBOX_PATH}"}'`;

const redirect = (location: string) =>
  new Response(null, { status: 303, headers: { location, "cache-control": "no-store" } });

const when = (iso: string | null) => (iso === null ? "—" : iso.replace("T", " ").replace(/\.\d+Z$/, "Z"));

function eventRows(events: readonly StoredEvent[]): Html[] {
  return events.map(({ event }) => {
    const to = (event.payment as { status?: string }).status ?? "";
    return html`<tr data-event="${event.id}"><td class="mono">${event.id}</td><td class="mono">${event.type}</td>
<td><a class="mono" href="/merchant/events?payment=${encodeURIComponent(event.paymentId)}">${event.paymentId}</a></td>
<td>${event.previousStatus ?? "—"} → ${to}</td><td class="small">${when(event.occurredAt)}</td></tr>`;
  });
}

function deliveryRows(deliveries: readonly WebhookDelivery[]): Fragment {
  if (deliveries.length === 0) return html`<tr><td colspan="6" class="muted">No deliveries yet.</td></tr>`;
  return deliveries.map(
    (d) => html`<tr data-delivery="${d.id}" data-status="${d.status}"><td class="mono">${d.eventType}</td>
<td class="mono">${d.eventId}</td><td>${d.status}</td><td class="num">${d.attempts}</td>
<td>${d.lastStatusCode ?? "—"}${d.lastError === null ? "" : html` <span class="muted small">${d.lastError}</span>`}</td>
<td class="small">${d.status === "pending" ? when(d.nextAttemptAt) : "—"}</td></tr>`,
  );
}

function endpointSection(endpoint: WebhookEndpoint, deliveries: readonly WebhookDelivery[]): Html {
  return html`<h3 class="mono">${endpoint.url}</h3>
<p class="small muted">${endpoint.id} · ${endpoint.status}${endpoint.disabledReason === null ? "" : ` (${endpoint.disabledReason})`} · ${endpoint.events === null ? "all events" : endpoint.events.join(", ")}</p>
<table data-endpoint="${endpoint.id}"><thead><tr><th>Event</th><th>Event ID</th><th>Delivery</th><th class="num">Attempts</th><th>Last answer</th><th>Next attempt</th></tr></thead>
<tbody>${deliveryRows(deliveries)}</tbody></table>`;
}

/** The body as indented JSON when it is JSON, else as it came. */
function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function receivedRows(received: readonly Received[]): Fragment {
  if (received.length === 0)
    return html`<tr><td colspan="6" class="muted">Nothing yet. Register the inbox, then cancel a link on the <a href="/">merchant page</a>.</td></tr>`;
  return received.map(
    (
      r,
    ) => html`<tr data-webhook-id="${r.webhookId}" data-verified="${r.verifiedBy === null ? "no" : "yes"}"><td class="small">${when(r.at)}</td>
<td class="mono">${r.type ?? "—"}</td><td class="mono">${r.webhookId}${r.arrival > 1 ? html` <span class="muted small">(arrival ${r.arrival})</span>` : ""}</td>
<td>${r.verifiedBy === null ? html`<span class="badge s-canceled">not verified</span> <span class="small">${r.problem ?? ""}</span>` : html`<span class="badge s-paid">verified</span> <span class="small mono">${r.verifiedBy}</span>`}</td>
<td class="num">${r.status}</td>
<td><details class="meta"><summary>body</summary><pre class="mono">${pretty(r.body)}</pre></details></td></tr>`,
  );
}

/** The delivery pages. Answers `undefined` for any other path. */
export function createDeliveryPages(
  options: DeliveryPagesOptions,
): (request: Request) => Promise<Response | undefined> {
  const { scope, endpoints, relay, receiver, hosts } = options;
  const inbox = `${options.base}${INBOX_PATH}`;
  const unavailable = (error: PaylinkError | unknown) => {
    console.error("[demo pages]", error);
    return page({
      title: "Try again",
      body: messageBody("Something went wrong", "The store did not answer. Please try again."),
      section: null,
      status: 503,
    });
  };

  async function eventsPage(request: Request): Promise<Response> {
    const query = new URL(request.url).searchParams;
    const payment = query.get("payment") ?? undefined;
    const after = query.get("starting_after") ?? undefined;
    if ((payment !== undefined && !ID.test(payment)) || (after !== undefined && !ID.test(after)))
      return redirect("/merchant/events");
    let events: StoredEvent[];
    let lag: Awaited<ReturnType<Relay["lag"]>>;
    try {
      events = await options.events.listEvents(scope, {
        limit: EVENTS_PAGE_SIZE + 1,
        ...(after === undefined ? {} : { startingAfter: after }),
        ...(payment === undefined ? {} : { paymentId: payment }),
      });
      lag = await relay.lag();
    } catch (error) {
      return unavailable(error);
    }
    const listed = await endpoints.list(scope);
    if (listed.isErr()) return unavailable(listed.error);
    const sections: Html[] = [];
    for (const endpoint of listed.value) {
      const page = await endpoints.deliveries(scope, endpoint.id, { limit: DELIVERIES_SHOWN });
      if (page.isErr()) return unavailable(page.error);
      sections.push(endpointSection(endpoint, page.value));
    }
    const shown = events.slice(0, EVENTS_PAGE_SIZE);
    const more = events.length > EVENTS_PAGE_SIZE;
    const next = new URLSearchParams({
      ...(payment === undefined ? {} : { payment }),
      starting_after: shown.at(-1)?.event.id ?? "",
    });
    const body = html`<main class="wide">
<h1>Events &amp; webhooks</h1>
<p class="lead">Every change of a payment writes its event into the store's outbox in the same transaction. The relay hands each event to every sink at least once, in order per payment; the dispatcher posts webhook deliveries, signed per Standard Webhooks, and retries them on a schedule.</p>
<h2>Relay</h2>
<table><thead><tr><th>Sink</th><th class="num">Events behind</th><th class="num">Oldest waiting (s)</th></tr></thead>
<tbody>${lag.map((l) => html`<tr data-sink="${l.sink}"><td>${l.sink}</td><td class="num">${l.events}</td><td class="num">${l.seconds.toFixed(1)}</td></tr>`)}</tbody></table>
<h2>Webhook endpoints</h2>
${sections.length === 0 ? html`<p class="muted">No endpoint yet. Register the demo's receiver on <a href="/demo/webhooks">/demo/webhooks</a>, or with <code>${registerCurl(options.base, options.apiKey)}</code></p>` : sections}
<h2>${payment === undefined ? "Events" : html`Events of <span class="mono">${payment}</span> · <a class="small" href="/merchant/events">all payments</a>`}</h2>
<table><thead><tr><th>Event ID</th><th>Type</th><th>Payment</th><th>Status</th><th>Occurred</th></tr></thead>
<tbody>${shown.length === 0 ? html`<tr><td colspan="5" class="muted">No events${after === undefined ? "" : " after this one"}.</td></tr>` : eventRows(shown)}</tbody></table>
${more ? html`<nav class="pager"><a href="/merchant/events?${next.toString()}" rel="next">Later events</a></nav>` : ""}
</main>`;
    return page({ title: "Events · Paylink demo", body, section: "events" });
  }

  async function webhooksPage(): Promise<Response> {
    const listed = await endpoints.list(scope);
    if (listed.isErr()) return unavailable(listed.error);
    const mine = listed.value.filter((e) => new URL(e.url).pathname === INBOX_PATH);
    const answers = [200, 500, 410] as const;
    const body = html`<main class="wide">
<h1>Webhook receiver</h1>
<p class="lead">A receiver like a merchant's: it verifies each delivery's signature with <code>standardwebhooks</code> and the endpoint's secret, and shows what arrived, newest first. The same <code>webhook-id</code> on a second arrival is a redelivery of one event: deduplicate on it.</p>
<p>Inbox: <code>${inbox}</code></p>
${
  mine.length === 0
    ? html`<div>No endpoint points here yet. <form class="inline" method="post" action="/demo/webhooks/register"><button type="submit">Register the inbox</button></form></div>
<p class="hint">Or: <code>${registerCurl(options.base, options.apiKey)}</code></p>`
    : html`<p class="small">Registered as ${mine.map((e) => html`<span class="mono">${e.id}</span> (${e.status}) `)}</p>`
}
<form method="post" action="/demo/webhooks/answer"><label>The inbox answers</label>
${answers.map((code) => html`<button type="submit" name="answer" value="${code}"${receiver.answer === code ? html` aria-pressed="true"` : ""}>${code}</button> `)}
<span class="hint">now ${receiver.answer}: 500 shows the retries, 410 disables the endpoint</span></form>
<h2>Received <a class="small" href="/demo/webhooks">refresh</a></h2>
<table><thead><tr><th>Arrived</th><th>Type</th><th>webhook-id</th><th>Signature</th><th class="num">Answer</th><th>Body</th></tr></thead>
<tbody>${receivedRows(receiver.received())}</tbody></table>
</main>`;
    return page({ title: "Webhook receiver · Paylink demo", body, section: "webhooks" });
  }

  async function post(request: Request, action: "register" | "answer"): Promise<Response> {
    if (isCrossOrigin(request, hosts))
      return page({
        title: "Refused",
        body: messageBody("Refused", "Cross-site form post."),
        section: null,
        status: 403,
      });
    const form = await readForm(request, 1024);
    if (!(form instanceof URLSearchParams)) return redirect("/demo/webhooks");
    if (action === "answer") {
      const code = Number(form.get("answer"));
      if (code === 200 || code === 500 || code === 410) receiver.answer = code;
      return redirect("/demo/webhooks");
    }
    const created = await endpoints.create(scope, { url: inbox });
    if (created.isErr()) return unavailable(created.error);
    return redirect("/demo/webhooks");
  }

  return async (request) => {
    const { pathname } = new URL(request.url);
    const read = request.method === "GET" || request.method === "HEAD";
    if (pathname === INBOX_PATH) return receiver.handle(request);
    if (pathname === "/merchant/events" && read) return eventsPage(request);
    if (pathname === "/demo/webhooks" && read) return webhooksPage();
    if (pathname === "/demo/webhooks/register" && request.method === "POST") return post(request, "register");
    if (pathname === "/demo/webhooks/answer" && request.method === "POST") return post(request, "answer");
    return undefined;
  };
}
