"""Mutation check of the laws: breaks the code on purpose, one mutant at a time, and shows which tests go red.

Every law (property test) must fail under at least one mutant; a mutant that leaves every test green is a
hole in the specification. Runs in a scratch git worktree of HEAD so the checkout is never touched:

    python3 scripts/mutants.py          # all mutants
    python3 scripts/mutants.py M1 M6    # some of them
"""
import os, re, subprocess, sys, tempfile

repo = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True).stdout.strip()
work = tempfile.mkdtemp(prefix="paylink-mutants-")
subprocess.run(["git", "worktree", "add", "-q", "--detach", work, "HEAD"], cwd=repo, check=True)
os.symlink(f"{repo}/node_modules", f"{work}/node_modules")
for pkg in os.listdir(f"{repo}/packages"):
    if os.path.isdir(f"{repo}/packages/{pkg}/node_modules"):
        os.symlink(f"{repo}/packages/{pkg}/node_modules", f"{work}/packages/{pkg}/node_modules")
os.chdir(work)
muts = [
 ("M1 second cancel re-cancels", "packages/core/src/machine.ts", "            CANCEL: {},\n", "            CANCEL: { target: \"canceled\", actions: [stamp(\"canceledAt\"), emit(\"canceled\")] },\n"),
 ("M2 charge cancel is a no-op", "packages/core/src/machine.ts", "        CANCEL: { actions: reject(\"charge_not_cancelable\") },", "        CANCEL: {},"),
 ("M3 processing can be canceled", "packages/core/src/machine.ts", "            PAYMENT_SUCCEEDED: { target: \"paid\", actions: [stamp(\"paidAt\"), emit(\"paid\")] },\n          },\n        },\n        paid:", "            PAYMENT_SUCCEEDED: { target: \"paid\", actions: [stamp(\"paidAt\"), emit(\"paid\")] },\n            CANCEL: { target: \"canceled\", actions: [stamp(\"canceledAt\"), emit(\"canceled\")] },\n          },\n        },\n        paid:"),
 ("M4 late payment marks canceled link paid", "packages/core/src/machine.ts", "            PAYMENT_SUCCEEDED: { actions: emit(\"late_payment\") },\n          },\n        },\n        expired", "            PAYMENT_SUCCEEDED: { target: \"paid\", actions: emit(\"late_payment\") },\n          },\n        },\n        expired"),
 ("M5 no lazy expiry", "packages/core/src/links.ts", "const expired = expiry.changes ? apply(current, expiry, now()) : current;", "const expired = current;"),
 ("M6 scope ignores livemode", "packages/store-memory/src/index.ts", "&& row.scope.livemode === scope.livemode", ""),
 ("M7 CAS ignores version", "packages/store-memory/src/index.ts", "if (!visible(row, scope) || row.record.version !== expectedVersion) return false;", "if (!visible(row, scope)) return false;"),
 ("M8 attempted cannot restart", "packages/core/src/machine.ts", 'attempted: { description: "A payment attempt failed or was abandoned; still payable." },', 'attempted: { description: "x", on: { START_PAYMENT: { actions: reject("link_not_payable") } } },'),
 ("M9 table ignores due", "packages/core/src/decision.ts", "row[type] = [Object.freeze(notDue), Object.freeze(due)] as const;", "row[type] = [Object.freeze(notDue), Object.freeze(notDue)] as const;"),
 ("M10 stamp overwrites", "packages/core/src/links.ts", "if (next[field] === null)", "if (true)"),
 ("M11 no retry on lost swap", "packages/core/src/links.ts", "if (!written) continue;", "if (!written) return err(errors.conflict(id));"),
 ("M12 SQLite never groups commits", "packages/store-sqlite/src/index.ts", "const groupLimit = groupCommit ? maxGroupSize : 1;", "const groupLimit = 1;"),
 ("M13 SQLite group retry keeps the failed group", "packages/store-sqlite/src/index.ts", 'rollback(c);\n        c.s.begin.run();', ""),
 ("M14 SQLite batched read ignores the account", "packages/store-sqlite/src/index.ts", "row.account_id !== read.scope.accountId ||", ""),
 ("M15 Postgres batched read ignores the account", "packages/store-postgres/src/index.ts", "row.account_id !== pending.scope.accountId ||", ""),
 ("M16 Postgres batched reads share objects", "packages/store-postgres/src/index.ts", "handedOut.has(row.id) ? structuredClone(row.payment) : row.payment", "row.payment"),
 ("M17 memory store writes despite a lost key claim", "packages/store-memory/src/index.ts", "if (idempotency !== undefined && !holds(scope, idempotency)) return KEY_LOST;\n      if (rows.has", "if (rows.has"),
 ("M18 SQLite never takes over a lapsed lease", "packages/store-sqlite/src/index.ts", "existing.locked_until <= record.createdAt", "false"),
 ("M19 Postgres keyed write ignores the claim", "packages/store-postgres/src/index.ts", "if (answered.rowCount !== 1) {", "if (false) {"),
 ("M20 SQLite waits for the lock on the thread", "packages/store-sqlite/src/index.ts", "if (blocking) retryBusy(busyTimeoutMs, () => c.s.begin.run());\n      else c.s.begin.run();", "retryBusy(busyTimeoutMs, () => c.s.begin.run());"),
 ("M21 a command does not store its key's response with its write", "packages/core/src/links.ts", "rejection === null ? keyed(idempotency, next) : undefined", "undefined"),
]
# The projects each mutant's tests live in (default: core and the memory store).
projects = {"M12": "store-sqlite", "M13": "store-sqlite", "M14": "store-sqlite", "M15": "store-postgres", "M16": "store-postgres",
            "M18": "store-sqlite", "M19": "store-postgres", "M20": "store-sqlite", "M21": "store-memory --project http"}
only = sys.argv[1:] 
for name, path, old, new in muts:
    if only and name.split()[0] not in only: continue
    src = open(path).read()
    if old not in src:
        print(name, "PATTERN NOT FOUND"); continue
    open(path, "w").write(src.replace(old, new, 1))
    try:
        selected = projects.get(name.split()[0], "core --project store-memory")
        out = subprocess.run(f"timeout 600 npx vitest run --project {selected} 2>&1", shell=True, capture_output=True, text=True).stdout
    finally:
        open(path, "w").write(src)
    fails = sorted(set(re.findall(r"(?:FAIL|×)\s.*?>\s*(.+?)(?:\s\d+ms)?$", re.sub(r"\x1b\[[0-9;]*m", "", out), re.M)))
    summary = re.findall(r"Tests\s+(.*)", re.sub(r"\x1b\[[0-9;]*m", "", out))
    print(f"== {name}: {summary[-1] if summary else '??'}")
    for f in fails[:8]: print("   red:", f[:150])

subprocess.run(["git", "worktree", "remove", "--force", work], cwd=repo)
