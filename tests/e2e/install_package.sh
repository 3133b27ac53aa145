#!/usr/bin/env bash
# install_package.sh - phieu installs like Debian software.
# 1. `cmake --install` into a DESTDIR puts the program, the man page, the SANE backend as
#    libsane-phieu.so.1 in libsane's backend folder with /etc/sane.d/dll.d/phieu and a
#    commented phieu.conf, and the forms and docs in share/doc/phieu. The installed phieu
#    prints the project's version, lists phieu:0 through the installed dll.d (as does
#    scanimage -L), and prints a ballot from an installed form.
# 2. The Debian package (cpack, as `make deb`): its control names the libraries the
#    binaries link and the fonts, its contents are the files above, the /etc files are
#    conffiles. (scripts/fresh-check installs it on a clean Debian 12.)
set -euo pipefail
build=${PHIEU_BUILD_DIR:?}
work=$(mktemp -d /tmp/phieu-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || fail "no project version in $build/CMakeCache.txt"
sane_libdir=$(pkg-config --variable=libdir sane-backends)/sane

dest="$work/root"
DESTDIR="$dest" cmake --install "$build" --prefix /usr > "$work/install.log"
for f in usr/bin/phieu usr/share/man/man1/phieu.1 "${sane_libdir#/}/libsane-phieu.so.1" \
         etc/sane.d/dll.d/phieu etc/sane.d/phieu.conf \
         usr/share/doc/phieu/README.md usr/share/doc/phieu/forms/district-rating.form; do
  [ -e "$dest/$f" ] || { cat "$work/install.log" >&2; fail "not installed: /$f"; }
done
[ ! -e "$dest/${sane_libdir#/}/libsane-phieu.so" ] || fail "the unversioned backend name was installed"
grep -qx phieu "$dest/etc/sane.d/dll.d/phieu" || fail "dll.d/phieu does not name the backend"
# phieu.conf: every setting commented out, so an installed backend feeds nothing until the
# board's technician sets a folder.
! grep -v '^#' "$dest/etc/sane.d/phieu.conf" | grep -q '[^[:space:]]' ||
  fail "phieu.conf has settings that are not commented out"

installed="$dest/usr/bin/phieu"
[ "$("$installed" --version)" = "phieu $version" ] || fail "phieu --version says '$("$installed" --version)', not 'phieu $version'"
# Only the installed configuration: its dll.d names phieu, no dll.conf brings the host's.
export SANE_CONFIG_DIR="$dest/etc/sane.d" LD_LIBRARY_PATH="$dest/$sane_libdir"
timeout 60 "$installed" devices > "$work/devices.txt" || fail "phieu devices failed"
grep -q '^phieu:0' "$work/devices.txt" || { cat "$work/devices.txt" >&2; fail "phieu devices does not list phieu:0"; }
# In a sanitizer build the backend needs the ASan runtime loaded first in scanimage too.
preload=""
if grep -q '^PHIEU_SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
  preload=$(cc -print-file-name=libasan.so)
fi
LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 timeout 60 scanimage -L > "$work/scanimage.txt" ||
  fail "scanimage -L failed"
grep -q "device \`phieu:0'" "$work/scanimage.txt" || { cat "$work/scanimage.txt" >&2; fail "scanimage -L does not list phieu:0"; }
unset SANE_CONFIG_DIR LD_LIBRARY_PATH
"$installed" form print "$dest/usr/share/doc/phieu/forms/district-rating.form" -o "$work/b.pdf" >/dev/null
[ "$(pdfinfo "$work/b.pdf" | sed -n 's/^Pages: *//p')" = 1 ] || fail "form print from the installed form made no one-page PDF"
MANPATH="$dest/usr/share/man" man -P cat phieu 2>/dev/null | grep -q "phieu" || fail "man phieu does not show the installed page"

# The package, built from this build tree.
(cd "$build" && cpack -G DEB -B "$work/pkg" > "$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/pkg/phieu_"$version"_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { ls -R "$work/pkg" >&2; fail "no phieu_${version}_*.deb"; }
info=$(dpkg-deb --info "$deb")
depends=$(dpkg-deb --field "$deb" Depends)
for d in libsane1 libtiff6 libpng16-16 libsqlite3-0 libcairo2 libmicrohttpd12 libsodium23 libjansson4 fonts-dejavu-core fonts-liberation2; do
  case ", $depends," in *", $d"[\ ,]*) ;; *) fail "the package does not depend on $d: $depends" ;; esac
done
case "$depends" in *cmocka*) fail "the package depends on cmocka, which only the tests need" ;; esac
[ "$(dpkg-deb --field "$deb" Version)" = "$version" ] || fail "package version is not $version"
contents=$(dpkg-deb --contents "$deb" | awk '{print $NF}')
for f in ./usr/bin/phieu ./usr/share/man/man1/phieu.1 ".$sane_libdir/libsane-phieu.so.1" \
         ./etc/sane.d/dll.d/phieu ./etc/sane.d/phieu.conf ./usr/share/doc/phieu/forms/confidence-vote.form; do
  grep -qx -- "$f" <<<"$contents" || fail "the package lacks $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles > "$work/conffiles"
grep -qx /etc/sane.d/phieu.conf "$work/conffiles" && grep -qx /etc/sane.d/dll.d/phieu "$work/conffiles" ||
  fail "the /etc files are not conffiles: $(cat "$work/conffiles")"
echo "installed and packaged phieu $version: $(basename "$deb"), $(wc -l <<<"$contents") entries"
echo "$info" | sed -n 's/^ Depends: /depends: /p'
