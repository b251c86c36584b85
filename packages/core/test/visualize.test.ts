import { createLifecycleActor, lifecycleMachine, toStatelyJson, toStatelySource } from "@paylink/core";
import { describe, expect, test } from "vitest";
import { createMachine, type InspectionEvent } from "xstate";

describe("visualising the machine", () => {
  test("the Stately export is plain JSON that rebuilds the same machine", () => {
    const json = toStatelyJson();
    const rebuilt = createMachine(json as never);
    const names = (m: typeof lifecycleMachine) =>
      Object.entries(m.root.states).flatMap(([kind, node]) =>
        Object.keys(node.states).map((s) => `${kind}.${s}`),
      );
    expect(names(rebuilt as never)).toEqual(names(lifecycleMachine));
    expect(toStatelySource()).toContain("createMachine(");
    expect(toStatelySource()).toContain('"isDue"');
  });

  test("an inspector attached to a lifecycle actor sees the CANCEL and the new state", () => {
    const seen: InspectionEvent[] = [];
    const actor = createLifecycleActor(
      { kind: "link", status: "viewed", expiresAt: "2099-01-01T00:00:00.000Z" },
      { inspect: (event) => seen.push(event) },
    );
    actor.send({ type: "CANCEL", now: Date.now() });
    expect(actor.getSnapshot().value).toEqual({ link: "canceled" });
    expect(actor.getSnapshot().hasTag("terminal")).toBe(true);
    expect(seen.some((e) => e.type === "@xstate.event" && e.event.type === "CANCEL")).toBe(true);
    actor.stop();
  });
});
