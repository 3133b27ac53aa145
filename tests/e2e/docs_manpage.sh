#!/usr/bin/env bash
# docs_manpage.sh - the man page cannot silently fall behind the program: every command of
# `phieu help` (and of cli.h's PHIEU_COMMANDS) has a section ".SS phieu COMMAND" in
# docs/phieu.1, every long option printed by `phieu COMMAND -h` (and by `phieu COMMAND SUB
# -h` for the subcommands its usage names) appears in that section, the section names no
# option the program no longer prints, EXIT STATUS lists exactly cli.h's PHIEU_EXIT_*
# codes, and the page renders without a warning (man --warnings, else groff -ww).
set -euo pipefail
: "${PHIEU_BIN:?PHIEU_BIN must name the phieu program}"
: "${PHIEU_SOURCE_DIR:?PHIEU_SOURCE_DIR must name the source tree}"
page="$PHIEU_SOURCE_DIR/docs/phieu.1"
cli_h="$PHIEU_SOURCE_DIR/src/cli/cli.h"
[[ -f "$page" ]] || { echo "FAIL: no man page at $page" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. What the program says: `phieu help`, and each command's (and subcommand's) -h.
"$PHIEU_BIN" help >"$tmp/help" || { echo "FAIL: 'phieu help' exited $?" >&2; exit 1; }
commands=$(sed -n '/^commands:/,/^$/p' "$tmp/help" | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p')
[[ -n "$commands" ]] || { echo "FAIL: no commands in 'phieu help':" >&2; cat "$tmp/help" >&2; exit 1; }
for c in $commands; do
    "$PHIEU_BIN" "$c" -h >"$tmp/$c.help" 2>&1 || { echo "FAIL: 'phieu $c -h' exited $?" >&2; exit 1; }
    # Subcommands: the lowercase word after "phieu COMMAND" on a usage line.
    for sub in $(sed -n "s/^\(usage:\)\{0,1\} *phieu $c \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\2/p" "$tmp/$c.help" | sort -u); do
        "$PHIEU_BIN" "$c" "$sub" -h >>"$tmp/$c.help" 2>&1 ||
            { echo "FAIL: 'phieu $c $sub -h' exited $?" >&2; exit 1; }
    done
done

# 2. Compare with the man page's source.
python3 - "$page" "$cli_h" "$tmp" $commands <<'EOF'
import re, sys

page, cli_h, tmp, commands = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
problems = []

# The roff source as text: font escapes dropped, \- and \e as the characters they print.
src = open(page, encoding="utf-8").read()
text = re.sub(r"\\f(\[[^]]*\]|\(..|.)", "", src).replace("\\-", "-").replace("\\e", "\\")

sections, title = {}, None
for line in text.splitlines():
    m = re.match(r'^\.(SH|SS)\s+"?([^"]*)"?\s*$', line)
    if m:
        title = m.group(2).strip()
        sections[title] = []
    elif title is not None:
        sections[title].append(line)
sections = {k: "\n".join(v) for k, v in sections.items()}

LONG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")

# Every command of cli.h's table is in `phieu help`.
table = re.findall(r"^\s*X\((\w+),", open(cli_h).read(), re.M)
for c in table:
    if c not in commands:
        problems.append(f"cli.h registers '{c}' but 'phieu help' does not list it")

documented = {t.split()[1] for t in sections if re.match(r"^phieu [a-z][a-z-]*$", t)}
for c in commands:
    if c not in documented:
        problems.append(f"command '{c}' has no section '.SS \"phieu {c}\"' in docs/phieu.1")
        continue
    body = sections[f"phieu {c}"]
    helped = set(LONG.findall(open(f"{tmp}/{c}.help", encoding="utf-8").read()))
    in_page = set(LONG.findall(body))
    for opt in sorted(helped - in_page):
        problems.append(f"'phieu {c} -h' prints {opt}, the section 'phieu {c}' does not")
    # Every command takes --help; any other option must still be one the program prints.
    for opt in sorted(in_page - helped - {"--help"}):
        problems.append(f"the section 'phieu {c}' names {opt}, which 'phieu {c} -h' no longer prints")
for c in sorted(documented - set(commands)):
    problems.append(f"docs/phieu.1 documents 'phieu {c}', which 'phieu help' does not list")

for name in ("NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "FILES", "ENVIRONMENT",
             "EXAMPLES", "SEE ALSO"):
    if name not in sections:
        problems.append(f"docs/phieu.1 has no section {name}")

# EXIT STATUS lists exactly the codes of cli.h.
codes = {int(v) for v in re.findall(r"PHIEU_EXIT_\w+\s*=\s*(\d+)", open(cli_h).read())}
listed = {int(v) for v in re.findall(r"^\.B\s+(\d+)\s*$", sections.get("EXIT STATUS", ""), re.M)}
if not codes:
    problems.append("no PHIEU_EXIT_* codes found in src/cli/cli.h")
for v in sorted(codes - listed):
    problems.append(f"exit code {v} (src/cli/cli.h) is missing from EXIT STATUS")
for v in sorted(listed - codes):
    problems.append(f"EXIT STATUS lists {v}, which src/cli/cli.h does not define")

for var in ("SANE_CONFIG_DIR", "LD_LIBRARY_PATH"):
    if var not in sections.get("ENVIRONMENT", ""):
        problems.append(f"ENVIRONMENT does not mention {var}")

for p in problems:
    print("FAIL:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"docs/phieu.1 covers {len(commands)} commands and their options; "
      f"exit codes {sorted(codes)}")
EOF

# 3. It renders without a warning, in any locale the tests run in.
if command -v man >/dev/null 2>&1; then
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
    how="man --warnings -l"
elif command -v groff >/dev/null 2>&1; then
    warnings=$(LC_ALL=C.UTF-8 groff -k -man -Tutf8 -ww -z "$page" 2>&1)
    how="groff -man -ww"
else
    echo "FAIL: neither man nor groff is installed (scripts/install-deps installs man-db)" >&2
    exit 1
fi
if [[ -n "$warnings" ]]; then
    echo "FAIL: $how docs/phieu.1 warns:" >&2
    echo "$warnings" >&2
    exit 1
fi
echo "docs/phieu.1 renders without warnings ($how)"
