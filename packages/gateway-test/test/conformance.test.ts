import { gatewayConformance } from "@paylink/testing";
import { test } from "vitest";
import { CALL_TIMEOUT_MS, testGatewayHarness } from "./harness.js";

gatewayConformance(test, () => testGatewayHarness(), {
  name: "test gateway",
  callTimeoutMs: CALL_TIMEOUT_MS,
  marginMs: 500,
  currencies: ["GBP", "JPY", "KWD"],
});
