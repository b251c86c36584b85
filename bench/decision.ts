/**
 * The decision on the hot path: the table compiled from the machine, next to a hand-written `switch`
 * (the raw baseline, written here only to be measured against) and next to XState's own `transition()`.
 */
import {
  decide,
  interpret,
  LIFECYCLE_EVENTS,
  LINK_STATUSES,
  type LifecycleEventType,
  type Status,
} from "@paylink/core";
import { type BenchModuleResult, compare } from "./harness.js";

type HandDecision = { status: Status; reject: string | null };

// The baseline: what a hand-written rule set costs. Not used by Paylink; the machine is the rules.
function handWritten(status: Status, event: LifecycleEventType, due: boolean): HandDecision {
  switch (event) {
    case "CANCEL":
      switch (status) {
        case "pending":
        case "viewed":
        case "attempted":
          return { status: "canceled", reject: null };
        case "canceled":
          return { status, reject: null };
        default:
          return { status, reject: "payment_not_cancelable" };
      }
    case "VIEW":
      return { status: status === "pending" ? "viewed" : status, reject: null };
    case "START_PAYMENT":
      return status === "pending" || status === "viewed" || status === "attempted"
        ? { status: "processing", reject: null }
        : { status, reject: "link_not_payable" };
    case "PAYMENT_FAILED":
      return { status: status === "processing" ? (due ? "expired" : "attempted") : status, reject: null };
    case "PAYMENT_SUCCEEDED":
      return { status: status === "processing" || status === "pending" ? "paid" : status, reject: null };
    case "EXPIRE":
      return {
        status:
          due && (status === "pending" || status === "viewed" || status === "attempted") ? "expired" : status,
        reject: null,
      };
  }
}

// A fixed pseudo-random workload of (status, event, due), identical for every contender.
const N = 1024;
const inputs = Array.from({ length: N }, (_, i) => ({
  status: LINK_STATUSES[(i * 7) % LINK_STATUSES.length]!,
  event: LIFECYCLE_EVENTS[(i * 13) % LIFECYCLE_EVENTS.length]!,
  due: i % 5 === 0,
}));

/** Runs the decision benchmarks. */
export async function run(): Promise<BenchModuleResult> {
  let sink = 0;
  let i = 0;
  const table = await compare(
    "decision",
    {
      name: "compiled table",
      opsPerCall: N,
      fn: () => {
        for (let k = 0; k < N; k++) {
          const x = inputs[k]!;
          sink += decide("link", x.status, x.event, x.due)!.status.length;
        }
      },
    },
    {
      name: "hand-written switch",
      opsPerCall: N,
      fn: () => {
        for (let k = 0; k < N; k++) {
          const x = inputs[k]!;
          sink += handWritten(x.status, x.event, x.due).status.length;
        }
      },
    },
    // The bound: at most 3× the switch's time per decision.
    { unit: "decision", target: 1 / 3 },
  );
  const xstate = await compare(
    "decision by XState transition() (for the record)",
    {
      name: "xstate transition()",
      fn: () => {
        const x = inputs[i++ % N]!;
        sink += interpret(
          "link",
          x.status,
          { kind: "link", expiresAt: x.due ? 0 : Number.MAX_SAFE_INTEGER },
          x.event,
          1,
        ).status.length;
      },
    },
    {
      name: "hand-written switch",
      fn: () => {
        const x = inputs[i++ % N]!;
        sink += handWritten(x.status, x.event, x.due).status.length;
      },
    },
    { timeMs: 200, rounds: 3, unit: "decision" },
  );
  if (sink === 42) console.log("");
  return { rows: [table, xstate] };
}
