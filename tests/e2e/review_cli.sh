#!/bin/bash
# review_cli.sh - the review commands as an operator types them: `phieu user add` (password
# from standard input), `phieu decide` with the two-person rule and a password check,
# `phieu review` refusing a non-loopback address without --allow-remote, starting on a
# free port, answering over HTTP (python3 http.client) and stopping cleanly on Ctrl-C.
set -euo pipefail

: "${PHIEU_BIN:?}" "${PHIEU_SOURCE_DIR:?}" "${PHIEU_BUILD_DIR:?}"
work=$(mktemp -d /tmp/phieu-review-cli-XXXXXX)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "review_cli: $*" >&2; exit 1; }
# expect CODE CMD...: runs CMD, checks its exit code; its output is left in $work/stdout|stderr.
expect() {
  local want=$1; shift
  local got=0
  "$@" >"$work/stdout" 2>"$work/stderr" || got=$?
  [ "$got" = "$want" ] || { cat "$work/stdout" "$work/stderr" >&2; fail "'$*' exited $got, expected $want"; }
}

db="$work/day.db"
"$PHIEU_BUILD_DIR/test_review" --make-ballots "$work/scans" 3
"$PHIEU_BIN" session new "$db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 --place "Hội trường" \
  --delegates 30 --form "$PHIEU_SOURCE_DIR/forms/district-rating.form" >/dev/null
expect 7 "$PHIEU_BIN" import "$db" "$work/scans"

# Accounts: the password from standard input; too short, duplicate, bad role refused.
echo "mat-khau-lan-1" | expect 0 "$PHIEU_BIN" user add "$db" lan --role supervisor
grep -q "user 'lan' added" "$work/stdout" || fail "no confirmation for user add"
echo "mat-khau-minh-2" | expect 0 "$PHIEU_BIN" user add "$db" minh --role supervisor --password-stdin
echo "mat-khau-truong-3" | expect 0 "$PHIEU_BIN" user add "$db" truong --role head
# Names: letters (Vietnamese too), digits, . - _; "Lan" is "lan".
echo "mat-khau-xyz-9" | expect 2 "$PHIEU_BIN" user add "$db" "lan<b>" --role supervisor
grep -q "use only letters" "$work/stderr" || fail "a name with '<' is refused, saying why"
echo "mat-khau-xyz-9" | expect 1 "$PHIEU_BIN" user add "$db" LAN --role supervisor
grep -q "without regard to case" "$work/stderr" || fail "'LAN' beside 'lan' is refused"
expect 0 "$PHIEU_BIN" user unlock "$db" Lan
grep -q "user 'Lan' unlocked" "$work/stdout" || fail "user unlock says what it did"
expect 1 "$PHIEU_BIN" user unlock "$db" nobody
echo "short" | expect 2 "$PHIEU_BIN" user add "$db" ngan --role supervisor
grep -q "at least 8" "$work/stderr" || fail "a short password is refused with the reason"
echo "mat-khau-lan-9" | expect 1 "$PHIEU_BIN" user add "$db" lan --role supervisor
echo "mat-khau-xyz-9" | expect 2 "$PHIEU_BIN" user add "$db" xyz --role boss
expect 2 "$PHIEU_BIN" user add "$db" xyz
expect 0 "$PHIEU_BIN" user list "$db"
[ "$(grep -c . "$work/stdout")" = 3 ] || fail "three accounts expected"
grep -q "^head *truong" "$work/stdout" || fail "truong is the head"
# The hashes are argon2id, never the password.
sqlite3 "$db" "SELECT pwhash FROM users" | grep -q '^\$argon2id\$' || fail "no argon2id hash"
if sqlite3 "$db" "SELECT * FROM users" | grep -q "mat-khau"; then fail "a password is stored"; fi

# Decisions from the command line: the exception on row 2 (faint mark in 'trust').
expect 7 "$PHIEU_BIN" exceptions "$db"
first=$(awk '$5 == 2 {print $1; exit}' "$work/stdout")
[ -n "$first" ] || { cat "$work/stdout" >&2; fail "no exception on row 2"; }
echo "wrong-password" | expect 1 "$PHIEU_BIN" decide "$db" "$first" trust --user lan
grep -q "wrong user name or password" "$work/stderr" || fail "wrong password message"
echo "mat-khau-lan-1" | expect 2 "$PHIEU_BIN" decide "$db" "$first" maybe --user lan
echo "mat-khau-lan-1" | expect 0 "$PHIEU_BIN" decide "$db" "$first" trust --user lan --note "giấy có dấu x nhỏ"
grep -q "waiting for a second supervisor" "$work/stdout" || fail "one decision waits for a second"
echo "mat-khau-minh-2" | expect 0 "$PHIEU_BIN" decide "$db" "$first" trust --user minh --password-stdin
grep -q "resolved as trust" "$work/stdout" || fail "two agreeing decisions resolve it"
echo "mat-khau-lan-1" | expect 4 "$PHIEU_BIN" decide "$db" "$first" high --user lan
echo "mat-khau-truong-3" | expect 2 "$PHIEU_BIN" decide "$db" "$first" high --user truong
grep -q "override; give a note" "$work/stderr" || fail "the head's override needs a note"
echo "mat-khau-truong-3" | expect 0 "$PHIEU_BIN" decide "$db" "$first" high --user truong \
  --note "tờ giấy có dấu X rõ ở ô Tín nhiệm cao"
grep -q "resolved as high" "$work/stdout" || fail "the head's later decision replaces the result"
expect 0 "$PHIEU_BIN" decide -h
expect 2 "$PHIEU_BIN" decide "$db" "$first" trust

# The server: loopback only unless --allow-remote.
expect 2 "$PHIEU_BIN" review "$db" --listen 0.0.0.0:0
grep -q -- "--allow-remote" "$work/stderr" || fail "the refusal names --allow-remote"
expect 2 "$PHIEU_BIN" review "$db" --listen "not an address"
expect 0 "$PHIEU_BIN" review -h
expect 1 "$PHIEU_BIN" review "$work/none.db" --listen 127.0.0.1:0

"$PHIEU_BIN" review "$db" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/out" | grep -o '[0-9]*/$' | tr -d / || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/log" >&2; fail "phieu review printed no address"; }
python3 - "$port" <<'PY'
import http.client, json, sys
port = int(sys.argv[1])
def req(method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data
r, data = req("GET", "/")
assert r.status == 200 and b"app.js" in data, r.status
r, _ = req("GET", "/api/queue")
assert r.status == 401, r.status
r, data = req("POST", "/api/login", json.dumps({"user": "minh", "password": "mat-khau-minh-2"}),
              {"Content-Type": "application/json"})
assert r.status == 200, (r.status, data)
cookie = r.getheader("Set-Cookie").split(";")[0]
csrf = json.loads(data)["csrf"]
r, data = req("GET", "/api/queue", headers={"Cookie": cookie})
q = json.loads(data)
assert q["counts"]["decided"] == 1 and q["counts"]["open"] == 2, q["counts"]
r, data = req("GET", "/api/totals", headers={"Cookie": cookie})
t = json.loads(data)
assert t["provisional"] and t["exceptions_open"] == 2, t
# row 2 (Lê Thị Thu Hà) is settled by the head's decision
person = t["forms"][0]["persons"][1]
assert person["name"] == "Lê Thị Thu Hà" and person["pending"] == 0, person
r, _ = req("POST", "/api/logout", "{}", {"Cookie": cookie, "Content-Type": "application/json"})
assert r.status == 403, r.status  # no CSRF token
r, _ = req("POST", "/api/logout", "{}", {"Cookie": cookie, "Content-Type": "application/json",
                                         "X-CSRF-Token": csrf})
assert r.status == 200, r.status
print("http checks passed")
PY
kill -INT "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" = 0 ] || fail "phieu review exited $status after Ctrl-C"
grep -q "login 'minh'" "$work/log" || fail "the log names the login"

# The head's override is in the audit log as such, and in the minutes' technical appendix
# with its note (a draft: other cases are still open).
"$PHIEU_BIN" log "$db" >"$work/auditlog"
grep -q "override.*overrides decisions #1 lan, #2 minh" "$work/auditlog" \
  || fail "the audit log names the override and the decisions it replaced"
expect 0 "$PHIEU_BIN" report "$db" --out "$work/report" --draft
if ! command -v pdftotext >/dev/null; then
  echo "review_cli: SKIPPED the minutes' appendix: pdftotext (poppler-utils) is not installed"
  exit 77
fi
pdftotext "$work/report/minutes.pdf" "$work/minutes.txt"
grep -q "Các quyết định thay thế của Trưởng ban" "$work/minutes.txt" \
  || fail "the minutes do not list the overrides"
grep -q "truong thay thế các quyết định #1 lan, #2 minh" "$work/minutes.txt" \
  || fail "the minutes do not name the override's earlier decisions"
grep -q "tờ giấy có dấu X rõ" "$work/minutes.txt" || fail "the minutes lose the override's note"
echo "review_cli: passed"
