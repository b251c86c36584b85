import { fc, test } from "@fast-check/vitest";
import {
  decide,
  interpret,
  isTerminal,
  KINDS,
  LIFECYCLE_EVENTS,
  lifecycleMachine,
  type Status,
  stateValueOf,
  statusesOf,
} from "@paylink/core";
import { describe, expect } from "vitest";

const kindAndStatus = fc
  .constantFrom(...KINDS)
  .chain((kind) => fc.record({ kind: fc.constant(kind), status: fc.constantFrom(...statusesOf(kind)) }));

describe("the decision table compiled from the machine", () => {
  test.prop(
    [
      kindAndStatus,
      fc.constantFrom(...LIFECYCLE_EVENTS),
      fc.option(fc.integer({ min: 0, max: 4_000_000_000_000 }), { nil: null }),
      fc.integer({ min: 0, max: 4_000_000_000_000 }),
    ],
    { numRuns: 500 },
  )(
    "equals XState's transition() for every status, event and context",
    ({ kind, status }, type, expiresAt, now) => {
      const context = { kind, expiresAt: kind === "charge" ? null : expiresAt };
      const due = context.expiresAt !== null && now >= context.expiresAt;
      expect(decide(kind, status, type, due)).toEqual(interpret(kind, status, context, type, now));
    },
  );

  test("covers exactly the statuses of each kind", () => {
    for (const kind of KINDS) {
      for (const status of [
        "pending",
        "viewed",
        "attempted",
        "processing",
        "paid",
        "canceled",
        "expired",
        "failed",
      ] as Status[]) {
        expect(decide(kind, status, "CANCEL", false) !== undefined).toBe(statusesOf(kind).includes(status));
      }
    }
  });

  test("terminal statuses are the machine's `terminal` tags", () => {
    const terminal = KINDS.flatMap((kind) =>
      statusesOf(kind)
        .filter((s) => isTerminal(kind, s))
        .map((s) => `${kind}.${s}`),
    );
    expect(terminal).toEqual(["link.paid", "link.canceled", "link.expired", "charge.paid", "charge.failed"]);
    const tagged = KINDS.flatMap((kind) =>
      statusesOf(kind)
        .filter((status) =>
          lifecycleMachine
            .resolveState({ value: stateValueOf(kind, status)!, context: { kind, expiresAt: null } })
            .hasTag("terminal"),
        )
        .map((status) => `${kind}.${status}`),
    );
    expect(tagged).toEqual(terminal);
  });

  test("the DESIGN's cancel column", () => {
    const cancel = (kind: "link" | "charge", status: Status) => {
      const d = decide(kind, status, "CANCEL", false)!;
      return d.reject ?? (d.changes ? `-> ${d.status}` : "no-op");
    };
    expect(Object.fromEntries(statusesOf("link").map((s) => [s, cancel("link", s)]))).toEqual({
      pending: "-> canceled",
      viewed: "-> canceled",
      attempted: "-> canceled",
      processing: "payment_not_cancelable",
      paid: "payment_not_cancelable",
      canceled: "no-op",
      expired: "payment_not_cancelable",
    });
    for (const s of statusesOf("charge")) expect(cancel("charge", s)).toBe("charge_not_cancelable");
  });
});
