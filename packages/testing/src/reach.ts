import type {
  CreatePaymentInput,
  DomainEvent,
  PaylinkError,
  Payment,
  PaymentLinks,
  PaymentStore,
  Scope,
} from "@paylink/core";
import type { CommandName, FakeClock, Step } from "./arbitraries.js";

/** Sends `command` to payment `id`, normalising every command to `Result<Payment>`-like outcomes. */
export async function send(
  links: PaymentLinks,
  scope: Scope,
  id: string,
  command: CommandName,
): Promise<{ ok: true; payment: Payment; changed?: boolean } | { ok: false; error: PaylinkError }> {
  if (command === "cancel") {
    const result = await links.cancel(scope, id);
    return result.isOk()
      ? { ok: true, payment: result.value.payment, changed: result.value.changed }
      : { ok: false, error: result.error };
  }
  const result = await links[command](scope, id);
  return result.isOk() ? { ok: true, payment: result.value } : { ok: false, error: result.error };
}

/** What {@link reachPayment} drives a payment with. */
export interface ReachWorld {
  /** The commands, made over `store` with `clock`. */
  readonly links: PaymentLinks;
  /** The store `links` writes to: the payment's events are read from its outbox. */
  readonly store: Pick<PaymentStore, "readEvents">;
  /** The clock `links` reads; the walk moves it as the steps say. */
  readonly clock: FakeClock;
}

/** A payment driven into a reachable state, with everything it announced on the way. */
export interface ReachedPayment {
  readonly id: string;
  /** The payment as any reader sees it after the walk (read with `links.get`, so a due expiry is applied). */
  readonly payment: Payment;
  /**
   * The payment's domain events in commit order, from its `created` event on. Every write carries at
   * least one event, so the last one's `payment` equals {@link ReachedPayment.payment}.
   */
  readonly events: readonly DomainEvent[];
}

async function walk(
  links: PaymentLinks,
  clock: FakeClock,
  scope: Scope,
  input: CreatePaymentInput,
  steps: readonly Step[],
): Promise<string> {
  const created = await links.create(scope, input);
  // An invalid input is the caller's mistake, not a reachable state: say so rather than walk nothing.
  if (created.isErr()) throw new Error(`reach: create failed: ${created.error.message}`);
  for (const step of steps) {
    clock.advance(step.advanceMs);
    await send(links, scope, created.value.id, step.command);
  }
  return created.value.id;
}

/**
 * Payments in any reachable state: creates one from `input` and replays `steps` through the commands,
 * moving `clock` as the steps say. Returns the payment's id; refusals along the way are part of the walk.
 * {@link reachPayment} also returns the payment and its events.
 */
export async function reach(
  links: PaymentLinks,
  clock: FakeClock,
  scope: Scope,
  input: CreatePaymentInput,
  steps: readonly Step[],
): Promise<string> {
  return walk(links, clock, scope, input, steps);
}

const PAGE = 500;

/**
 * Like {@link reach}, and returns the payment as it ends up together with its domain events, so a
 * property can check what was announced (a webhook handler, a projection) and not only the status.
 * The events are found by paging through the whole outbox of `world.store`: give each run a fresh store.
 *
 * @example
 * const { payment, events } = await reachPayment({ links, store, clock }, scope, input, steps);
 */
export async function reachPayment(
  world: ReachWorld,
  scope: Scope,
  input: CreatePaymentInput,
  steps: readonly Step[],
): Promise<ReachedPayment> {
  const id = await walk(world.links, world.clock, scope, input, steps);
  const read = await world.links.get(scope, id);
  if (read.isErr()) throw new Error(`reachPayment: get failed: ${read.error.message}`);
  const events: DomainEvent[] = [];
  for (let after = 0; ; ) {
    const page = await world.store.readEvents(after, PAGE);
    if (page.length === 0) break;
    for (const { event } of page) {
      if (event.paymentId === id && event.accountId === scope.accountId && event.livemode === scope.livemode)
        events.push(event);
    }
    after = page[page.length - 1]!.sequence;
  }
  return { id, payment: read.value, events };
}
