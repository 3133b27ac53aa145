# review_server.sh - sourced by the browser e2e tests (tests/e2e/browser_*.sh): what they
# need before they start, a district session made from a folder of scans, and `phieu
# review` on a free loopback port. Needs PHIEU_BIN, PHIEU_SOURCE_DIR and $work (the test's
# temporary folder).

# browser_ready NAME: exits 77 (skipped, and said so) when Debian's chromium is not
# installed, the one thing a machine may lack; fails when jq or playwright-core is missing,
# which scripts/install-deps installs, so that a missing install step is never a pass.
browser_ready() {
  CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
  if [ ! -x "$CHROMIUM" ]; then
    echo "$1: SKIPPED: $CHROMIUM is not installed (scripts/install-deps installs it)"
    exit 77
  fi
  command -v jq >/dev/null || { echo "$1: jq is missing: run scripts/install-deps" >&2; exit 1; }
  if [ ! -d "$PHIEU_SOURCE_DIR/tests/browser/node_modules/playwright-core" ]; then
    echo "$1: playwright-core is missing: run scripts/install-deps" >&2
    exit 1
  fi
}

# district_session DB SCANS DELEGATES: a session on the district form with SCANS imported;
# the import must leave pages to review (exit 7).
district_session() {
  "$PHIEU_BIN" session new "$1" --council "Hội đồng nhân dân huyện An Thạnh" \
    --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 \
    --place "Hội trường UBND huyện" --delegates "$3" \
    --form "$PHIEU_SOURCE_DIR/forms/district-rating.form" >/dev/null
  local status=0
  "$PHIEU_BIN" import "$1" "$2" >/dev/null || status=$?
  [ "$status" = 7 ] || { echo "import of $2: expected exit 7 (pages to review), got $status" >&2; return 1; }
}

# start_review DB NAME: `phieu review DB` in the background, its output in $work/NAME.out
# and $work/NAME.log; sets review_pid and review_url (no trailing slash).
review_pid=""
start_review() {
  "$PHIEU_BIN" review "$1" --listen 127.0.0.1:0 >"$work/$2.out" 2>"$work/$2.log" &
  review_pid=$!
  review_url=""
  for _ in $(seq 1 100); do
    review_url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/$2.out" || true)
    [ -n "$review_url" ] && return 0
    sleep 0.1
  done
  echo "phieu review ($2) did not start:" >&2
  cat "$work/$2.log" >&2
  return 1
}

# stop_review: the server stopped as by Ctrl-C, and waited for.
stop_review() {
  kill -INT "$review_pid"
  wait "$review_pid"
  review_pid=""
}

# The test's EXIT trap calls this: a server still running is stopped.
kill_review() {
  if [ -n "$review_pid" ]; then kill "$review_pid" 2>/dev/null || true; wait "$review_pid" 2>/dev/null || true; fi
}
