import type { Kind, Status } from "@paylink/core";
import type { CommandName } from "./arbitraries.js";

/**
 * An independent statement of the DESIGN's lifecycle table, written by hand for model-based tests:
 * the machine is checked against it, so it must not be derived from the machine.
 */
export interface ModelPayment {
  kind: Kind;
  status: Status;
  expiresAt: number | null;
  lateEvents: number;
}

/** What the model expects a command to answer. */
export type ModelAnswer = { ok: true; changed?: boolean } | { ok: false; code: string };

const OPEN: readonly Status[] = ["pending", "viewed", "attempted"];

/** Applies `command` at time `now` to the model (mutating it) and returns the expected answer. */
export function modelStep(model: ModelPayment, command: CommandName, now: number): ModelAnswer {
  const due = model.expiresAt !== null && now >= model.expiresAt;
  if (model.kind === "link" && due && OPEN.includes(model.status)) model.status = "expired";
  const s = model.status;
  if (model.kind === "charge") {
    switch (command) {
      case "cancel":
        return { ok: false, code: "charge_not_cancelable" };
      case "startPayment":
        if (s !== "pending") return { ok: false, code: "link_not_payable" };
        model.status = "processing";
        return { ok: true };
      case "paymentFailed":
        if (s === "processing") model.status = "failed";
        return { ok: true };
      case "paymentSucceeded":
        if (s === "pending" || s === "processing") model.status = "paid";
        else if (s === "failed") model.lateEvents++;
        return { ok: true };
      default:
        return { ok: true };
    }
  }
  switch (command) {
    case "cancel":
      if (OPEN.includes(s)) {
        model.status = "canceled";
        return { ok: true, changed: true };
      }
      if (s === "canceled") return { ok: true, changed: false };
      return { ok: false, code: "payment_not_cancelable" };
    case "view":
      if (s === "pending") model.status = "viewed";
      return { ok: true };
    case "startPayment":
      if (!OPEN.includes(s)) return { ok: false, code: "link_not_payable" };
      model.status = "processing";
      return { ok: true };
    case "paymentFailed":
      if (s === "processing") model.status = due ? "expired" : "attempted";
      return { ok: true };
    case "paymentSucceeded":
      if (OPEN.includes(s) || s === "processing") model.status = "paid";
      else if (s === "canceled" || s === "expired") model.lateEvents++;
      return { ok: true };
    case "get":
      return { ok: true };
  }
}
