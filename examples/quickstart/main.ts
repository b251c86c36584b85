/**
 * Quickstart: create a payment link, view it, cancel it twice, then try to cancel a charge.
 * Every command returns a Result; this prints each one.
 */
import { createPaymentLinks } from "@paylink/core";
import { createMemoryStore } from "@paylink/store-memory";

const links = createPaymentLinks({ store: createMemoryStore() });
const scope = { accountId: "acct_demo", livemode: false };

const show = (label: string, result: { isOk(): boolean; isErr(): boolean }, value: unknown) =>
  console.log(`${label.padEnd(28)} ${result.isOk() ? "Ok " : "Err"} ${JSON.stringify(value)}`);

const created = await links.create(scope, {
  customerId: "cus_1",
  provider: "stripe",
  amountSubtotal: 1000,
  taxAmount: 200,
  currency: "GBP",
  description: "For cappuccino",
  metadata: { order: "A-1" },
  expiresAt: new Date(Date.now() + 86_400_000),
});
if (created.isErr()) throw new Error(created.error.message);
const link = created.value;
show("create link", created, { id: link.id, status: link.status, amountTotal: link.amountTotal });

const viewed = await links.view(scope, link.id);
show("view", viewed, viewed.map((p) => p.status).unwrapOr(null));

for (const label of ["cancel", "cancel again (no-op)"]) {
  const canceled = await links.cancel(scope, link.id);
  show(
    label,
    canceled,
    canceled.match(
      ({ payment, changed }) => ({ status: payment.status, changed }),
      (error) => error,
    ),
  );
}

const charge = (
  await links.create(scope, {
    kind: "charge",
    customerId: "cus_1",
    provider: "stripe",
    amountSubtotal: 500,
    currency: "JPY",
  })
)._unsafeUnwrap();
const refused = await links.cancel(scope, charge.id);
show(
  "cancel a charge",
  refused,
  refused.match(
    () => null,
    ({ code, message }) => ({ code, message }),
  ),
);
