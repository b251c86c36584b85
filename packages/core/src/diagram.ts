import { decide, isTerminal } from "./decision.js";
import {
  KINDS,
  type Kind,
  LIFECYCLE_EVENTS,
  type LifecycleEventType,
  type Status,
  statusesOf,
} from "./lifecycle.js";
import { lifecycleMachine } from "./machine.js";

/** One arrow of the lifecycle diagram, read off the machine. */
export interface LifecycleEdge {
  readonly kind: Kind;
  readonly from: Status;
  readonly to: Status;
  readonly event: LifecycleEventType;
  /** `"due"` when the edge is taken only once `expiresAt` has passed, `"not due"` only before. */
  readonly when: "always" | "due" | "not due";
  /** Domain events the edge announces. */
  readonly emits: readonly string[];
}

/** Every edge of the machine that moves a payment or records something, in a stable order. */
export function lifecycleEdges(): LifecycleEdge[] {
  const edges: LifecycleEdge[] = [];
  for (const kind of KINDS) {
    for (const from of statusesOf(kind)) {
      for (const event of LIFECYCLE_EVENTS) {
        const notDue = decide(kind, from, event, false)!;
        const due = decide(kind, from, event, true)!;
        const same = JSON.stringify(notDue) === JSON.stringify(due);
        for (const [decision, when] of same
          ? ([[notDue, "always"]] as const)
          : ([
              [notDue, "not due"],
              [due, "due"],
            ] as const)) {
          if (!decision.changes || (decision.status === from && decision.emits.length === 0)) continue;
          edges.push({ kind, from, to: decision.status, event, when, emits: decision.emits });
        }
      }
    }
  }
  return edges;
}

const KIND_TITLE: Record<Kind, string> = { link: "Payment link", charge: "Charge" };

function label(edge: LifecycleEdge): string {
  const guard =
    edge.when === "due" ? " [past expiresAt]" : edge.when === "not due" ? " [before expiresAt]" : "";
  const late = edge.from === edge.to ? ` / ${edge.emits.join(", ")}` : "";
  return `${edge.event}${guard}${late}`;
}

/** The lifecycle as a Mermaid `stateDiagram-v2`, generated from the machine. */
export function toMermaid(): string {
  const lines = ["stateDiagram-v2"];
  for (const kind of KINDS) {
    lines.push(`  state "${KIND_TITLE[kind]}" as ${kind} {`);
    lines.push(`    [*] --> ${kind}_pending`);
    for (const status of statusesOf(kind)) lines.push(`    state "${status}" as ${kind}_${status}`);
    for (const edge of lifecycleEdges().filter((e) => e.kind === kind)) {
      lines.push(`    ${kind}_${edge.from} --> ${kind}_${edge.to} : ${label(edge)}`);
    }
    for (const status of statusesOf(kind))
      if (isTerminal(kind, status)) lines.push(`    ${kind}_${status} --> [*]`);
    lines.push("  }");
  }
  return `${lines.join("\n")}\n`;
}

/** The lifecycle as Graphviz DOT, generated from the machine; terminal states are double circles. */
export function toDot(): string {
  const lines = [
    "digraph lifecycle {",
    "  rankdir=LR;",
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fillcolor="#ffffff"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const kind of KINDS) {
    const fill = kind === "link" ? "#eef4ff" : "#fff4e6";
    lines.push(
      `  subgraph cluster_${kind} {`,
      `    label="${KIND_TITLE[kind]}";`,
      `    style=filled; color="${fill}";`,
    );
    for (const status of statusesOf(kind)) {
      const shape = isTerminal(kind, status) ? ", peripheries=2" : "";
      lines.push(`    ${kind}_${status} [label="${status}"${shape}];`);
    }
    for (const edge of lifecycleEdges().filter((e) => e.kind === kind)) {
      const color = edge.event === "CANCEL" ? ', color="#c0392b", fontcolor="#c0392b"' : "";
      lines.push(`    ${kind}_${edge.from} -> ${kind}_${edge.to} [label="${label(edge)}"${color}];`);
    }
    lines.push("  }");
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** What `event` does in `status`, in words, for the generated table. */
export function describeOutcome(kind: Kind, status: Status, event: LifecycleEventType): string {
  const notDue = decide(kind, status, event, false)!;
  const due = decide(kind, status, event, true)!;
  const say = (d: typeof notDue) => {
    if (d.reject !== null) return `✗ \`${d.reject}\``;
    if (!d.changes) return "no-op";
    if (d.status === status) return `records \`${d.emits.join(", ")}\``;
    return `→ \`${d.status}\``;
  };
  const a = say(notDue);
  const b = say(due);
  return a === b ? a : `${a}; past expiry ${b}`;
}

/** The status × event table of the machine, as Markdown, one table per kind. */
export function toMarkdownTable(): string {
  const out: string[] = [];
  for (const kind of KINDS) {
    out.push(`### ${KIND_TITLE[kind]}`, "");
    out.push(`| status | ${LIFECYCLE_EVENTS.map((e) => `\`${e}\``).join(" | ")} |`);
    out.push(`|---|${LIFECYCLE_EVENTS.map(() => "---").join("|")}|`);
    for (const status of statusesOf(kind)) {
      const name = isTerminal(kind, status) ? `\`${status}\` (final)` : `\`${status}\``;
      out.push(`| ${name} | ${LIFECYCLE_EVENTS.map((e) => describeOutcome(kind, status, e)).join(" | ")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

/** The machine's JSON definition, in the form the Stately editor and `@statelyai/inspect` read. */
export function toStatelyJson(): unknown {
  return lifecycleMachine.root.definition;
}
