import { ERROR_CODES, toMarkdownTable, toMermaid } from "@paylink/core";

const HEADER = "<!-- Generated from the machine by `pnpm docs:generate`. Do not edit: CI fails on drift. -->";

/** The lifecycle page: the Mermaid diagram and the status × event table, both from the machine. */
export function lifecycleMarkdown(): string {
  return `${HEADER}

# The payment lifecycle

Generated from \`lifecycleMachine\` in \`packages/core/src/machine.ts\`, the only place the rules live.
Every command first applies a due expiry (a link whose \`expiresAt\` has passed reads as \`expired\`), then
sends its event.

\`\`\`mermaid
${toMermaid().trimEnd()}
\`\`\`

## What each event does in each status

"no-op" means the command succeeds and nothing is written: no new timestamp, no event. "✗" is a refusal
with that error code; nothing is written. "records" writes an event and leaves the payment as it is.

| command | event |
|---|---|
| \`view\` | \`VIEW\` |
| \`startPayment\` | \`START_PAYMENT\` |
| \`paymentFailed\` | \`PAYMENT_FAILED\` |
| \`paymentSucceeded\` | \`PAYMENT_SUCCEEDED\` |
| \`cancel\` | \`CANCEL\` |
| \`expireDue\`, and every command first | \`EXPIRE\` |

${toMarkdownTable().trimEnd()}
`;
}

/** The error reference, from the one registry of codes; every `doc_url` anchor points here. */
export function errorsMarkdown(): string {
  const sections = Object.entries(ERROR_CODES).map(
    ([code, entry]) => `## ${code}\n\n**${entry.title}.** ${entry.description}\n`,
  );
  return `${HEADER.replace("the machine", "the error registry")}

# Errors

Every command returns errors as values with a stable \`code\`; nothing is thrown across the API.

${sections.join("\n")}`;
}

/** Every generated file, by path from the repository root. */
export async function generatedDocs(): Promise<Record<string, string>> {
  return { "docs/lifecycle.md": lifecycleMarkdown(), "docs/errors.md": errorsMarkdown() };
}
