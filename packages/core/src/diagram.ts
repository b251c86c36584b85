import { decide, isTerminal } from "./decision.js";
import { eventPrefix } from "./events.js";
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
          if (!decision.changes) continue;
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

const TERMINAL_FILL: Partial<Record<Status, string>> = {
  paid: "#d5f5e3",
  canceled: "#fadbd8",
  expired: "#e5e7e9",
  failed: "#fdebd0",
};

function edgeStyle(edge: LifecycleEdge): string {
  if (edge.from === edge.to) return ', style=dotted, color="#7f8c8d", fontcolor="#7f8c8d"';
  if (edge.event === "CANCEL") return ', color="#c0392b", fontcolor="#c0392b", penwidth=1.6';
  // Every EXPIRE edge lands in `expired`, and so does a failed payment past expiry.
  if (edge.to === "expired") return ', style=dashed, color="#7f8c8d", fontcolor="#566573"';
  return "";
}

/**
 * The lifecycle as Graphviz DOT, generated from the machine: one cluster per kind, terminal statuses
 * double-bordered and filled, cancel edges red, expiry edges dashed, late payments dotted.
 */
export function toDot(): string {
  const lines = [
    "digraph lifecycle {",
    "  rankdir=LR; nodesep=0.35; ranksep=0.9; newrank=true;",
    '  label="Paylink lifecycle (generated from lifecycleMachine)"; labelloc=t; fontname="Helvetica"; fontsize=16;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fillcolor="#ffffff"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  for (const kind of KINDS) {
    const fill = kind === "link" ? "#eef4ff" : "#fff7ec";
    lines.push(
      `  subgraph cluster_${kind} {`,
      `    label="${KIND_TITLE[kind]}"; fontsize=14;`,
      `    style="rounded,filled"; color="#aab7c4"; fillcolor="${fill}";`,
    );
    for (const status of statusesOf(kind)) {
      const terminal = isTerminal(kind, status);
      const look = terminal ? `, peripheries=2, fillcolor="${TERMINAL_FILL[status] ?? "#ffffff"}"` : "";
      const label = terminal ? `${status}\\n(final)` : status;
      lines.push(`    ${kind}_${status} [label="${label}"${look}];`);
    }
    for (const edge of lifecycleEdges().filter((e) => e.kind === kind)) {
      lines.push(
        `    ${kind}_${edge.from} -> ${kind}_${edge.to} [label="${label(edge)}"${edgeStyle(edge)}];`,
      );
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

const WHEN: Record<LifecycleEdge["when"], string> = {
  always: "always",
  due: "past `expiresAt`",
  "not due": "before `expiresAt`",
};

/**
 * The machine as Markdown, one section per kind: the status × event table, then every transition with
 * the domain events it writes, as published (`payment_link.canceled`, `charge.paid` …).
 */
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
    out.push("", `| from | event | when | to | domain events written |`, "|---|---|---|---|---|");
    for (const edge of lifecycleEdges().filter((e) => e.kind === kind)) {
      const events = edge.emits.map((name) => `\`${eventPrefix(kind)}.${name}\``).join(", ");
      out.push(`| \`${edge.from}\` | \`${edge.event}\` | ${WHEN[edge.when]} | \`${edge.to}\` | ${events} |`);
    }
    out.push("");
  }
  return out.join("\n");
}

/**
 * The machine's configuration as plain JSON (guards and actions are referenced by name), the form the
 * Stately editor imports. See `docs/visualize.md`.
 */
export function toStatelyJson(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(lifecycleMachine.config)) as Record<string, unknown>;
}

/** Source code the Stately editor's "Import from code" accepts: `createMachine(<config>)`. */
export function toStatelySource(): string {
  return `// Generated from lifecycleMachine by \`pnpm docs:generate\`. Paste into Stately's "Import from code".
import { createMachine } from "xstate";

export default createMachine(${JSON.stringify(toStatelyJson(), null, 2)});
`;
}
