import { expect } from "vitest";
import { mountedPaylinkSuite } from "../../shared/mounted-suite.js";
import { API_KEY, createFastifyExample, PREFIX } from "../main.js";

mountedPaylinkSuite({
  name: "a Fastify 5 app",
  prefix: PREFIX,
  apiKey: API_KEY,
  async start() {
    const example = await createFastifyExample();
    const address = await example.app.listen({ port: 0, host: "127.0.0.1" });
    return {
      base: address.replace("localhost", "127.0.0.1"),
      paylink: example.paylink,
      ids: example.ids,
      close: () => example.app.close(),
    };
  },
  // Fastify's own 404 is its JSON error, not Paylink's envelope.
  async expectHostNotFound(response) {
    expect(await response.json()).toMatchObject({ statusCode: 404, error: "Not Found" });
  },
});
