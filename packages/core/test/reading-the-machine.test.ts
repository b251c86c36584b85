import {
  can,
  createLifecycleActor,
  decide,
  eventPrefix,
  expirableStatuses,
  interpret,
  isTerminal,
  KINDS,
  type Kind,
  LIFECYCLE_EVENTS,
  lifecycleEdges,
  lifecycleMachine,
  type Status,
  stateValueOf,
  statusesOf,
  statusOfValue,
  toDot,
} from "@paylink/core";
import { describe, expect, test } from "vitest";
import { interpretStep } from "../src/decision.js";
import { linkInput, SCOPE, setup } from "./helpers.js";

describe("interpretStep: what one step of the machine means", () => {
  const at = (status: Status) =>
    lifecycleMachine.resolveState({
      value: stateValueOf("link", status)!,
      context: { kind: "link", expiresAt: null },
    });
  const stamp = { type: "stamp", params: { field: "viewedAt", at: "now" } };
  const emit = { type: "emit", params: { event: "viewed" } };
  const reject = { type: "reject", params: { code: "link_not_payable" } };

  test("a step writes when it moves the payment, sets a timestamp or announces an event", () => {
    expect(interpretStep(at("viewed"), [], "pending")).toMatchObject({ status: "viewed", changes: true });
    expect(interpretStep(at("viewed"), [stamp], "viewed")).toMatchObject({
      stamps: [{ field: "viewedAt", at: "now" }],
      changes: true,
    });
    expect(interpretStep(at("viewed"), [emit], "viewed")).toMatchObject({ emits: ["viewed"], changes: true });
    expect(interpretStep(at("viewed"), [], "viewed").changes).toBe(false);
  });

  test("a rejection writes nothing, whatever else the step names", () => {
    expect(interpretStep(at("viewed"), [reject, stamp, emit], "pending")).toMatchObject({
      reject: "link_not_payable",
      changes: false,
    });
  });

  test("actions other than stamp, emit and reject mean nothing", () => {
    expect(interpretStep(at("paid"), [{ type: "xstate.log" }], "paid")).toEqual({
      status: "paid",
      stamps: [],
      emits: [],
      reject: null,
      changes: false,
      terminal: true,
    });
  });
});

describe("statuses a kind cannot be in", () => {
  test("interpret refuses them, naming the kind and the status", () => {
    expect(() => interpret("charge", "viewed", { kind: "charge", expiresAt: null }, "VIEW", 0)).toThrow(
      "charge has no status viewed",
    );
  });

  test("decide has no decision for them, isTerminal says no and can says no to every event", () => {
    const impossible = { kind: "charge", status: "viewed", expiresAt: null } as const;
    expect(decide("charge", "viewed", "VIEW", false)).toBeUndefined();
    expect(isTerminal("charge", "canceled")).toBe(false);
    for (const event of LIFECYCLE_EVENTS) expect(can(impossible, event, 0)).toBe(false);
  });

  test("stateValueOf finds only leaf statuses of a known kind", () => {
    expect(stateValueOf("link", "viewed")).toEqual({ link: { open: "viewed" } });
    expect(stateValueOf("link", "paid")).toEqual({ link: "paid" });
    expect(stateValueOf("charge", "failed")).toEqual({ charge: "failed" });
    // `open` is a state of the machine but not a status: it groups pending, viewed and attempted.
    expect(stateValueOf("link", "open")).toBeUndefined();
    expect(stateValueOf("charge", "viewed")).toBeUndefined();
    expect(stateValueOf("refund" as Kind, "pending")).toBeUndefined();
    expect(statusOfValue({ link: { open: "attempted" } })).toBe("attempted");
  });
});

describe("expirableStatuses", () => {
  test("a due expiry moves pending, viewed and attempted links; nothing else, and never a charge", () => {
    expect(expirableStatuses()).toEqual(["pending", "viewed", "attempted"]);
    expect(expirableStatuses("link")).toEqual(["pending", "viewed", "attempted"]);
    expect(expirableStatuses("charge")).toEqual([]);
  });
});

describe("createLifecycleActor", () => {
  const expiresAt = "2026-01-01T01:00:00.000Z";

  test("starts at the payment's status, with or without an inspector", () => {
    expect(createLifecycleActor({ kind: "link", status: "paid", expiresAt }).getSnapshot().value).toEqual({
      link: "paid",
    });
    const inspected = createLifecycleActor(
      { kind: "charge", status: "processing", expiresAt: null },
      { inspect: () => {} },
    );
    expect(inspected.getSnapshot().value).toEqual({ charge: "processing" });
    inspected.send({ type: "PAYMENT_FAILED", now: 0 });
    expect(inspected.getSnapshot().value).toEqual({ charge: "failed" });
  });

  test("its context holds the expiry in epoch milliseconds, and null for a payment that never expires", () => {
    const link = createLifecycleActor({ kind: "link", status: "viewed", expiresAt });
    expect(link.getSnapshot().context).toEqual({ kind: "link", expiresAt: Date.parse(expiresAt) });
    const charge = createLifecycleActor({ kind: "charge", status: "pending", expiresAt: null });
    expect(charge.getSnapshot().context).toEqual({ kind: "charge", expiresAt: null });
  });

  test("knows the link's expiry: EXPIRE moves it only once expiresAt has come", () => {
    const actor = createLifecycleActor({ kind: "link", status: "viewed", expiresAt });
    actor.send({ type: "EXPIRE", now: Date.parse(expiresAt) - 1 });
    expect(actor.getSnapshot().value).toEqual({ link: { open: "viewed" } });
    actor.send({ type: "EXPIRE", now: Date.parse(expiresAt) });
    expect(actor.getSnapshot().value).toEqual({ link: "expired" });
  });
});

describe("domain events of charges", () => {
  test("are published as charge.*, those of links as payment_link.*", async () => {
    const { links, clock } = setup();
    const charge = (
      await links.create(SCOPE, linkInput(clock.now(), { kind: "charge", expiresAt: null }))
    )._unsafeUnwrap();
    await links.startPayment(SCOPE, charge.id);
    await links.paymentFailed(SCOPE, charge.id);
    const types = (await links.events())._unsafeUnwrap().map((e) => e.event.type);
    expect(types).toEqual(["charge.created", "charge.payment_started", "charge.failed"]);
    expect(eventPrefix("charge")).toBe("charge");
    expect(eventPrefix("link")).toBe("payment_link");
  });
});

describe("lifecycleEdges", () => {
  test("lists exactly the decisions that move a payment or record an event", () => {
    const edges = lifecycleEdges();
    for (const edge of edges) {
      for (const due of edge.when === "always" ? [false, true] : [edge.when === "due"]) {
        const decision = decide(edge.kind, edge.from, edge.event, due)!;
        expect(decision.changes).toBe(true);
        expect(decision.status).toBe(edge.to);
        expect(decision.emits).toEqual(edge.emits);
      }
    }
    for (const kind of KINDS) {
      for (const from of statusesOf(kind)) {
        for (const event of LIFECYCLE_EVENTS) {
          for (const due of [false, true]) {
            if (!decide(kind, from, event, due)!.changes) continue;
            const drawn = edges.filter(
              (e) =>
                e.kind === kind &&
                e.from === from &&
                e.event === event &&
                (e.when === "always" || (e.when === "due") === due),
            );
            expect(drawn, `${kind} ${from} ${event} due=${due}`).toHaveLength(1);
          }
        }
      }
    }
  });
});

describe("toDot", () => {
  test("writes one statement a line: a node for each status, an arrow for each edge", () => {
    const lines = toDot()
      .split("\n")
      .map((line) => line.trimStart());
    for (const kind of KINDS) {
      for (const status of statusesOf(kind)) {
        expect(lines.some((line) => line.startsWith(`${kind}_${status} [label=`))).toBe(true);
      }
    }
    for (const { kind, from, to } of lifecycleEdges()) {
      expect(lines.some((line) => line.startsWith(`${kind}_${from} -> ${kind}_${to} [label=`))).toBe(true);
    }
  });
});
