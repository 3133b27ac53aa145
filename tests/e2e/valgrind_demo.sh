#!/usr/bin/env bash
# The demo path under valgrind memcheck: form check and print, session new, scan of three
# small pages through libsane and phieu's backend, status, tally, key, report --draft and
# verify; each command with zero errors and no definite leak
# (--errors-for-leak-kinds=definite). tests/valgrind.supp holds the one suppression, for
# libsane's own leak. Caches that fontconfig and pango keep for the life of the process
# are "still reachable", not definite, and need none. Skipped in the ASan build (valgrind
# cannot run a program built with AddressSanitizer; `make test` runs it).
set -euo pipefail
phieu=${PHIEU_BIN:?}
src=${PHIEU_SOURCE_DIR:?}
build=${PHIEU_BUILD_DIR:?}
lib=${PHIEU_SANE_LIB_DIR:?}
if grep -q '^PHIEU_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "valgrind_demo: SKIPPED in a sanitizer build (valgrind runs it in the plain build; tests/allowed-skips)"
  exit 77
fi
command -v valgrind >/dev/null || { echo "FAIL: valgrind is not installed (scripts/install-deps)" >&2; exit 1; }
work=$(mktemp -d /tmp/phieu-valgrind-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 99 marks a valgrind finding, told apart from phieu's own exit codes (0-7).
vg() {
  local rc=0
  valgrind -q --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --error-exitcode=99 --trace-children=no \
    --suppressions="$src/tests/valgrind.supp" --log-file="$work/vg.%p.log" "$@" \
    > "$work/out" 2>&1 || rc=$?
  if [ "$rc" -eq 99 ] || grep -qs . "$work"/vg.*.log; then
    cat "$work"/vg.*.log >&2
    fail "valgrind found errors or a definite leak in: ${*##*/}"
  fi
  echo "$rc"
}
ok() { local want=$1 rc; shift; rc=$(vg "$@"); case " $want " in *" $rc "*) ;; *)
  cat "$work/out" >&2; fail "'$*' exited $rc, expected $want" ;; esac; }

form="$src/forms/district-rating.form"
ok 0 "$phieu" form check "$form"
ok 0 "$phieu" form print "$form" -o "$work/ballots.pdf"
mkdir -p "$work/pages"
# Three pages: two ballots (plain, and a test ballot that becomes an exception) and one
# of the other form, rendered at 150 dpi (the fewest pixels the reader takes).
"$phieu" form print "$form" --format png --dpi 150 -o "$work/pages/a.png" >/dev/null
"$phieu" form print "$form" --format png --dpi 150 --test -o "$work/pages/b.png" >/dev/null
"$phieu" form print "$src/forms/confidence-vote.form" --format png --dpi 150 -o "$work/pages/c.png" >/dev/null
ok 0 "$phieu" session new "$work/s.db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" \
  --date 2026-11-28 --place "Hội trường" --delegates 30 --form "$form" \
  --form "$src/forms/confidence-vote.form"

cfg="$work/sane.d"
mkdir -p "$cfg/dll.d"
echo phieu > "$cfg/dll.conf"
echo "folder $work/pages" > "$cfg/phieu.conf"
export SANE_CONFIG_DIR="$cfg" LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
unset PHIEU_SANE_FOLDER PHIEU_SANE_TRAY PHIEU_SANE_DUPLEX PHIEU_SANE_FAULTS
ok 0 "$phieu" devices
ok "0 7" "$phieu" scan "$work/s.db" --device phieu:0 --resolution 150 </dev/null
[ "$(sqlite3 "$work/s.db" 'SELECT count(*) FROM sheets')" -eq 3 ] || fail "the scan recorded $(sqlite3 "$work/s.db" 'SELECT count(*) FROM sheets') sheets, not 3"
ok "0 7" "$phieu" status "$work/s.db"
ok 0 "$phieu" tally "$work/s.db" --json
ok "0 7" "$phieu" exceptions "$work/s.db"
ok 0 "$phieu" key new "$work/board.key"
ok 0 "$phieu" report "$work/s.db" --out "$work/report" --key "$work/board.key" --draft
ok 0 "$phieu" verify "$work/report" --pubkey "$work/board.key.pub"
ok 0 "$phieu" log "$work/s.db" --verify
echo "valgrind_demo: OK (12 commands, no errors, no definite leaks)"
