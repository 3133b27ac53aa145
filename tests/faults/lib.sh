# tests/faults/lib.sh - what the fault tests (tests/e2e/faults_*.sh, crash_review_report.sh)
# share: building the I/O-fault shim, test ballots, sessions, and the consistency checks.
# Sourced, not run. Needs PHIEU_BIN and PHIEU_SOURCE_DIR (set by ctest) and $work.

phieu=${PHIEU_BIN:?PHIEU_BIN must name the phieu program}
src=${PHIEU_SOURCE_DIR:?PHIEU_SOURCE_DIR must name the source tree}

fail() { echo "FAIL: $*" >&2; exit 1; }

# Under AddressSanitizer the shim comes before libasan in the library order; that is fine
# (the shim only forwards calls), so ASan must not insist on being first. fontconfig's
# process-lifetime caches (pango, in form print and report) are not our leak.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$src/tests/lsan.supp}"

# Builds tests/faults/iofail.c into $work/iofail.so.
build_shim() {
  cc -shared -fPIC -O1 -Wall -Wextra -Werror -o "$work/iofail.so" "$src/tests/faults/iofail.c" -ldl ||
    fail "cannot build the I/O fault shim"
}

# Runs a command with faults: faulty "IOFAIL_X=1 IOFAIL_Y=2" cmd args... ; the exit code in
# $frc, stderr in $work/fault.err, the shim's log in $work/fault.log.
faulty() {
  local spec=$1
  shift
  rm -f "$work/fault.log"
  frc=0
  # A subshell, so that a shell function can run under the faults too.
  # shellcheck disable=SC2086
  (export LD_PRELOAD="$work/iofail.so" IOFAIL_LOG="$work/fault.log" $spec; "$@") \
    > "$work/fault.out" 2> "$work/fault.err" || frc=$?
}
fault_fired() { [ -s "$work/fault.log" ]; }

render() { "$phieu" form print "$@" >/dev/null; }

new_session() {
  local db=$1
  shift
  # The district council's forms (the province form is another council's).
  local args=(--form "$src/forms/district-rating.form" --form "$src/forms/confidence-vote.form")
  "$phieu" session new "$db" --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" \
    --date 2026-11-28 --place "Hội trường" --delegates 30 "${args[@]}" "$@" >/dev/null
}

# A copy of a closed session (its file and its archive).
copy_session() {
  rm -rf "$2" "$2.images"
  cp "$1" "$2"
  cp -r "$1.images" "$2.images"
}

# The database is sound, every sheet's image is in the archive, no temporary file is left.
check_consistent() {
  local db=$1
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check of $db"
  [ -z "$(sqlite3 "$db" 'PRAGMA foreign_key_check')" ] || fail "foreign keys of $db"
  # A PNG, a TIFF kept as received, or the bytes of an unreadable file.
  sqlite3 "$db" "SELECT sha256 || CASE unreadable WHEN 1 THEN '.bin' ELSE '' END
                 FROM sheets" | while read -r name; do
    [ -f "$db.images/$name" ] || [ -f "$db.images/$name.png" ] || [ -f "$db.images/$name.tif" ] ||
      fail "sheet image $name missing from the archive of $db"
  done
  if ls "$db.images" | grep -q '\.tmp'; then fail "temporary files left in $db.images"; fi
  "$phieu" log "$db" --verify >/dev/null 2>&1 || fail "the audit log of $db does not verify"
}

# What must be equal between two sessions that saw the same pages and decisions: pages by
# hash, status, form and reading; exceptions with their state and resolution; decisions by
# exception and user; the tally.
dump() {
  sqlite3 "$1" "SELECT s.sha256, s.status, coalesce(s.form_idx,-1), s.pattern, s.unreadable,
                hex(r.blob) FROM sheets s LEFT JOIN readings r ON r.sheet_id = s.id
                ORDER BY s.sha256;
                SELECT s.sha256, e.row, e.reason, e.text, e.state, coalesce(e.resolution,'')
                FROM exceptions e JOIN sheets s ON s.id = e.sheet_id ORDER BY s.sha256, e.row;
                SELECT s.sha256, e.row, d.user, d.choice FROM decisions d
                JOIN exceptions e ON e.id = d.exception_id JOIN sheets s ON s.id = e.sheet_id
                ORDER BY s.sha256, e.row, d.id;"
  "$phieu" tally "$1" --json
}

# The exit code of a command that finished its work: 0, or 7 when pages await review.
finished() { [ "$1" -eq 0 ] || [ "$1" -eq 7 ]; }

# A fault must stop the command with an error of its own (not a crash, not success) and a
# message saying what failed.
expect_clean_stop() {
  local what=$1
  if finished "$frc"; then cat "$work/fault.err" >&2; fail "$what: exited $frc after a fault"; fi
  [ "$frc" -lt 128 ] || { cat "$work/fault.err" >&2; fail "$what: crashed (exit $frc)"; }
  grep -qE '^phieu( [a-z]+)?: ' "$work/fault.err" || { cat "$work/fault.err" >&2; fail "$what: no error message"; }
  grep -qiE 'full|no space|I/O error|input/output|cannot (write|sync|rename|commit)' "$work/fault.err" ||
    { cat "$work/fault.err" >&2; fail "$what: the message does not say what failed"; }
}
