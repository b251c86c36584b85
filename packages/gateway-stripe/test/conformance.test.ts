import { gatewayConformance } from "@paylink/testing";
import { test } from "vitest";
import { CALL_TIMEOUT_MS, stripeHarness } from "./harness.js";

gatewayConformance(test, () => stripeHarness(), { name: "stripe gateway", callTimeoutMs: CALL_TIMEOUT_MS });
