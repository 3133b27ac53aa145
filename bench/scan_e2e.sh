#!/usr/bin/env bash
# End to end through SANE: `phieu scan` of the committed sample ballots, fed at 300 dpi gray
# by phieu's own backend through the real libsane, into a new session (archive, read,
# commit, exceptions). Prints sheets per second of wall time and per second of CPU time
# (both threads together: what one core would sustain). Never fails on speed.
set -euo pipefail
: "${PHIEU_BIN:?}" "${PHIEU_SOURCE_DIR:?}" "${PHIEU_SANE_LIB_DIR:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sane.d/dll.d"
echo phieu > "$tmp/sane.d/dll.conf"
echo "folder $PHIEU_SOURCE_DIR/samples/ballots" > "$tmp/sane.d/phieu.conf"
# samples/ballots/ is the district council's: its session, its two forms.
forms=(--form "$PHIEU_SOURCE_DIR/forms/district-rating.form"
       --form "$PHIEU_SOURCE_DIR/forms/confidence-vote.form")
"$PHIEU_BIN" session new "$tmp/s.db" --council "Hội đồng nhân dân huyện An Thạnh" \
  --session-name "Kỳ họp thứ Mười Một, khóa XII" --date 2026-11-28 \
  --place bench --delegates 100 "${forms[@]}" >/dev/null
export SANE_CONFIG_DIR="$tmp/sane.d" LD_LIBRARY_PATH="$PHIEU_SANE_LIB_DIR"
start=$(date +%s.%N)
/usr/bin/time -f "%U %S %M" -o "$tmp/time" "$PHIEU_BIN" scan "$tmp/s.db" --device phieu:0 \
  --resolution 300 >/dev/null 2>&1 || true
end=$(date +%s.%N)
sheets=$(sqlite3 "$tmp/s.db" "select count(*) from sheets" 2>/dev/null || echo 0)
read -r user sys rss < <(tail -n 1 "$tmp/time")
python3 - "$sheets" "$start" "$end" "$user" "$sys" "$rss" <<'PY'
import sys
n, t0, t1, u, s, rss = int(sys.argv[1]), *map(float, sys.argv[2:6]), int(sys.argv[6])
wall, cpu = t1 - t0, u + s
print(f"phieu scan, 300 dpi gray, {n} sample sheets: {n / wall:.1f} sheets/s wall, "
      f"{n / cpu:.1f} sheets/s per core of CPU, peak memory {rss / 1024:.0f} MB "
      f"(bar: 10 pages/s on one core)")
PY
