import type { PaymentStore } from "@paylink/core";
import type { RelayStore } from "@paylink/core/store";

export type { RelayStore, SinkPosition } from "@paylink/core/store";

/** A store a relay can run on: the payment store (whose outbox it reads) with {@link RelayStore}. */
export type RelayableStore = PaymentStore & RelayStore;
