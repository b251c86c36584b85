export type { DeliveryOutcome, WebhookDelivery, WebhookEndpoint, WebhookStore } from "@paylink/core/store";
