import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createPaymentLinks, type DomainEvent, type Scope } from "@paylink/core";
import { createRelay } from "@paylink/relay";
import { createMemoryStore } from "@paylink/store-memory";
import { sampleLinkInput } from "@paylink/testing";
import {
  createWebhookDispatcher,
  createWebhookEndpoints,
  createWebhookSink,
  type WebhookDispatcherOptions,
} from "@paylink/webhooks";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";

const scope: Scope = { accountId: "acct_hooks", livemode: false };
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

interface Received {
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
  readonly at: number;
}

/** A receiver on 127.0.0.1; `answer` decides each response (default 204). */
async function receiver(
  answer: (req: IncomingMessage, res: ServerResponse, n: number) => void = (_q, res) =>
    res.writeHead(204).end(),
) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => {
      body += chunk;
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body, at: Date.now() });
      answer(req, res, received.length);
    });
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hooks`, received, server };
}

function setup(dispatch: Partial<WebhookDispatcherOptions> = {}) {
  // One store holds the payments, the sink cursors, and the endpoints with their deliveries.
  const store = createMemoryStore();
  const hooks = store;
  const endpoints = createWebhookEndpoints({ store: hooks, allow: { loopback: true } });
  const dispatcher = createWebhookDispatcher({ store: hooks, allow: { loopback: true }, ...dispatch });
  const relay = createRelay({ store, sinks: [createWebhookSink({ store: hooks })] });
  const links = createPaymentLinks({ store });
  /** Relays what was written, then sends what is due. */
  const flush = async () => {
    await relay.runOnce();
    return dispatcher.runOnce();
  };
  return { store, hooks, endpoints, dispatcher, relay, links, flush };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("webhooks", () => {
  it("signs each delivery per Standard Webhooks: webhook-id = event id, the body is the domain event", async () => {
    const { endpoints, links, store, flush } = setup();
    const hook = await receiver();
    const endpoint = (await endpoints.create(scope, { url: hook.url }))._unsafeUnwrap();
    expect(endpoint.secret).toMatch(/^whsec_/);
    const link = (await links.create(scope, sampleLinkInput(new Date())))._unsafeUnwrap();
    await links.cancel(scope, link.id);
    expect(await flush()).toBe(2);
    const events = (await store.readEvents(0, 10)).map((e) => e.event);
    expect(hook.received.map((r) => r.headers["webhook-id"])).toEqual(events.map((e) => e.id));
    const verifier = new Webhook(endpoint.secret);
    for (const [i, got] of hook.received.entries()) {
      const verified = verifier.verify(got.body, got.headers as Record<string, string>) as DomainEvent;
      expect(verified).toEqual(events[i]);
      expect(Object.keys(verified).sort()).toEqual(
        [
          "id",
          "type",
          "paymentId",
          "accountId",
          "livemode",
          "occurredAt",
          "previousStatus",
          "payment",
        ].sort(),
      );
    }
    // A tampered body fails verification.
    expect(() =>
      verifier.verify(
        hook.received[0]!.body.replace("pending", "paid"),
        hook.received[0]!.headers as Record<string, string>,
      ),
    ).toThrow();
  });

  it("an endpoint gets only its scope's events and the types it asked for; a handed-again event is queued once", async () => {
    const { endpoints, links, flush, hooks, store } = setup();
    const all = await receiver();
    const canceledOnly = await receiver();
    const otherMode = await receiver();
    await endpoints.create(scope, { url: all.url });
    await endpoints.create(scope, { url: canceledOnly.url, events: ["payment_link.canceled"] });
    await endpoints.create({ ...scope, livemode: true }, { url: otherMode.url });
    const link = (await links.create(scope, sampleLinkInput(new Date())))._unsafeUnwrap();
    await links.cancel(scope, link.id);
    await flush();
    expect(all.received).toHaveLength(2);
    expect(canceledOnly.received.map((r) => JSON.parse(r.body).type)).toEqual(["payment_link.canceled"]);
    expect(otherMode.received).toHaveLength(0);
    // The relay hands a batch again (it died before saving its cursor): nothing is posted twice.
    await createWebhookSink({ store: hooks }).deliver(await store.readEvents(0, 10));
    expect(await flush()).toBe(0);
  });

  it("a receiver that is down, then up: retried on the schedule, then delivered", async () => {
    const { endpoints, links, flush, hooks } = setup({ retryScheduleMs: [50, 50, 50] });
    let up = false;
    const hook = await receiver((_req, res) => res.writeHead(up ? 200 : 500).end());
    const endpoint = (await endpoints.create(scope, { url: hook.url }))._unsafeUnwrap();
    await links.create(scope, sampleLinkInput(new Date()));
    await flush();
    const [failed] = await hooks.listDeliveries(scope, endpoint.id, { limit: 10 });
    expect(failed).toMatchObject({
      status: "pending",
      attempts: 1,
      lastStatusCode: 500,
      lastError: "HTTP 500",
    });
    expect((await hooks.getEndpoint(scope, endpoint.id))!.failingSince).not.toBeNull();
    up = true;
    await sleep(70);
    await flush();
    const [done] = await hooks.listDeliveries(scope, endpoint.id, { limit: 10 });
    expect(done).toMatchObject({ status: "succeeded", attempts: 2, lastStatusCode: 200 });
    expect(new Set(hook.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect((await hooks.getEndpoint(scope, endpoint.id))!.failingSince).toBeNull();
  });

  it("410 disables the endpoint: no further attempts", async () => {
    const { endpoints, links, flush, hooks } = setup();
    const hook = await receiver((_req, res) => res.writeHead(410).end());
    const endpoint = (await endpoints.create(scope, { url: hook.url }))._unsafeUnwrap();
    await links.create(scope, sampleLinkInput(new Date()));
    await flush();
    expect(await hooks.getEndpoint(scope, endpoint.id)).toMatchObject({
      status: "disabled",
      disabledReason: "gone",
    });
    await links.create(scope, sampleLinkInput(new Date()));
    await flush();
    expect(hook.received).toHaveLength(1);
  });

  it("a receiver that hangs past the timeout counts as a failure, and never delays a healthy endpoint", async () => {
    const { endpoints, links, flush, hooks } = setup({ timeoutMs: 300, retryScheduleMs: [60_000] });
    const hanging = await receiver(() => undefined);
    const healthy = await receiver();
    const slow = (await endpoints.create(scope, { url: hanging.url }))._unsafeUnwrap();
    await endpoints.create(scope, { url: healthy.url });
    const started = Date.now();
    for (let i = 0; i < 3; i++) await links.create(scope, sampleLinkInput(new Date()));
    await flush();
    // The healthy endpoint had all three before the hanging one's first attempt timed out.
    expect(healthy.received).toHaveLength(3);
    expect(Math.max(...healthy.received.map((r) => r.at)) - started).toBeLessThan(300);
    const [first] = (await hooks.listDeliveries(scope, slow.id, { limit: 10 })).slice(-1);
    expect(first).toMatchObject({ status: "pending", attempts: 1, lastError: "timeout" });
  });

  it("429 and 503 wait for Retry-After", async () => {
    const { endpoints, links, flush, hooks } = setup({ retryScheduleMs: [5_000] });
    const hook = await receiver((_req, res) => res.writeHead(429, { "retry-after": "120" }).end());
    const endpoint = (await endpoints.create(scope, { url: hook.url }))._unsafeUnwrap();
    await links.create(scope, sampleLinkInput(new Date()));
    const before = Date.now();
    await flush();
    const [delivery] = await hooks.listDeliveries(scope, endpoint.id, { limit: 1 });
    const wait = Date.parse(delivery!.nextAttemptAt!) - before;
    expect(wait).toBeGreaterThanOrEqual(119_000);
    expect(wait).toBeLessThan(125_000);
  });

  it("after the last attempt a delivery is dead; retried by hand it goes out again", async () => {
    const { endpoints, links, flush, hooks } = setup({ retryScheduleMs: [20] });
    let up = false;
    const hook = await receiver((_req, res) => res.writeHead(up ? 200 : 503).end());
    const endpoint = (await endpoints.create(scope, { url: hook.url }))._unsafeUnwrap();
    await links.create(scope, sampleLinkInput(new Date()));
    await flush();
    await sleep(40);
    await flush();
    const [dead] = await hooks.listDeliveries(scope, endpoint.id, { limit: 1 });
    expect(dead).toMatchObject({ status: "dead", attempts: 2 });
    const notDead = await endpoints.retry(scope, endpoint.id, "whd_nope");
    expect(notDead._unsafeUnwrapErr().code).toBe("not_found");
    up = true;
    const revived = (await endpoints.retry(scope, endpoint.id, dead!.id))._unsafeUnwrap();
    expect(revived.status).toBe("pending");
    await flush();
    expect(await hooks.getDelivery(scope, dead!.id)).toMatchObject({ status: "succeeded", attempts: 3 });
    expect((await endpoints.retry(scope, endpoint.id, dead!.id))._unsafeUnwrapErr().code).toBe(
      "invalid_request",
    );
  });

  it("an endpoint that has only failed for longer than disableAfterMs is disabled", async () => {
    const { endpoints, links, flush, hooks } = setup({
      retryScheduleMs: [10, 10, 10, 10],
      disableAfterMs: 30,
    });
    const hook = await receiver((_req, res) => res.writeHead(500).end());
    const endpoint = (await endpoints.create(scope, { url: hook.url }))._unsafeUnwrap();
    await links.create(scope, sampleLinkInput(new Date()));
    for (let i = 0; i < 4; i++) {
      await flush();
      await sleep(20);
    }
    expect(await hooks.getEndpoint(scope, endpoint.id)).toMatchObject({
      status: "disabled",
      disabledReason: "failing",
    });
  });

  it("refuses bad endpoints, writing nothing: schemes, credentials, private and link-local addresses, unknown events", async () => {
    const hooks = createMemoryStore();
    const strict = createWebhookEndpoints({
      store: hooks,
      resolveHost: async (host) =>
        host === "internal.example" ? ["10.1.2.3"] : host === "public.example" ? ["93.184.215.14"] : [],
    });
    const cases: [unknown, unknown, string][] = [
      ["javascript:alert(1)", undefined, "url"],
      ["ftp://public.example/x", undefined, "url"],
      ["file:///etc/passwd", undefined, "url"],
      ["http://user:pw@public.example/", undefined, "url"],
      ["not a url", undefined, "url"],
      [42, undefined, "url"],
      [`https://public.example/${"x".repeat(3000)}`, undefined, "url"],
      ["http://127.0.0.1:9/", undefined, "url"],
      ["http://[::1]/", undefined, "url"],
      ["http://10.0.0.1/", undefined, "url"],
      ["http://169.254.169.254/latest/meta-data", undefined, "url"],
      ["http://internal.example/", undefined, "url"],
      ["http://nowhere.example/", undefined, "url"],
      ["https://public.example/", ["payment_link.exploded"], "events.0"],
      ["https://public.example/", ["payment_link.paid", "payment_link.paid"], "events.1"],
      ["https://public.example/", [], "events"],
      ["https://public.example/", "payment_link.paid", "events"],
    ];
    for (const [url, events, path] of cases) {
      const result = await strict.create(scope, { url, events });
      expect(result._unsafeUnwrapErr(), String(url)).toMatchObject({
        code: "invalid_request",
        issues: [expect.objectContaining({ path })],
      });
    }
    expect(await hooks.listEndpoints(scope)).toEqual([]);
    const fine = await strict.create(scope, {
      url: "https://public.example/hooks",
      events: ["payment_link.paid"],
    });
    expect(fine._unsafeUnwrap()).toMatchObject({
      url: "https://public.example/hooks",
      events: ["payment_link.paid"],
    });
  });

  it("a name that resolves to a loopback address when sending is refused without `allow` (DNS rebinding)", async () => {
    const hooks = createMemoryStore();
    const hook = await receiver();
    const port = new URL(hook.url).port;
    // Registered while "rebind.test" resolved to a public address …
    const endpoints = createWebhookEndpoints({ store: hooks, resolveHost: async () => ["93.184.215.14"] });
    const endpoint = (
      await endpoints.create(scope, { url: `http://localhost:${port}/hooks` })
    )._unsafeUnwrap();
    const store = hooks;
    const links = createPaymentLinks({ store });
    await links.create(scope, sampleLinkInput(new Date()));
    await createRelay({ store, sinks: [createWebhookSink({ store: hooks })] }).runOnce();
    // … the dispatcher checks the address it connects to: localhost is loopback, not allowed here.
    await createWebhookDispatcher({ store: hooks }).runOnce();
    expect(hook.received).toHaveLength(0);
    const [delivery] = await hooks.listDeliveries(scope, endpoint.id, { limit: 1 });
    expect(delivery).toMatchObject({ status: "pending", attempts: 1, lastError: "address not allowed" });
  });

  it("endpoints are confined to their scope: another account or mode gets not_found", async () => {
    const { endpoints } = setup();
    const hook = await receiver();
    const endpoint = (await endpoints.create(scope, { url: hook.url }))._unsafeUnwrap();
    for (const other of [
      { ...scope, accountId: "acct_other" },
      { ...scope, livemode: true },
    ]) {
      expect((await endpoints.get(other, endpoint.id))._unsafeUnwrapErr().code).toBe("not_found");
      expect((await endpoints.delete(other, endpoint.id))._unsafeUnwrapErr().code).toBe("not_found");
      expect((await endpoints.deliveries(other, endpoint.id, { limit: 10 }))._unsafeUnwrapErr().code).toBe(
        "not_found",
      );
      expect((await endpoints.list(other))._unsafeUnwrap()).toEqual([]);
    }
    expect((await endpoints.delete(scope, endpoint.id))._unsafeUnwrap().id).toBe(endpoint.id);
    expect((await endpoints.get(scope, endpoint.id))._unsafeUnwrapErr().code).toBe("not_found");
  });
  it("refuses a delivery lease that does not outlast the attempt's timeout", () => {
    const { hooks } = setup();
    for (const leaseMs of [1000, 1999, Number.POSITIVE_INFINITY, Number.NaN, 86_400_001])
      expect(
        () => createWebhookDispatcher({ store: hooks, timeoutMs: 1000, leaseMs }),
        String(leaseMs),
      ).toThrow(/must be at least timeoutMs \+ 1000 \(2000\) and at most a day/);
    expect(() => createWebhookDispatcher({ store: hooks, timeoutMs: 1000, leaseMs: 2000 })).not.toThrow();
  });
});
