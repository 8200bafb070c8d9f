#!/usr/bin/env bash
# Installs the Debian package given as $1 on this machine with apt-get (so its Depends are
# resolved from the archive), checks that the installed program works and its desktop files are
# in place, then removes the package and checks that it is gone. Run by
# `./echoscope.sh package-test`, which builds the package first. Needs root or sudo, python3,
# desktop-file-utils, appstream and binutils; Xvfb for the X11 check.
# Environment: PACKAGE_TEST_DISPLAY=:N runs Xvfb on that display (default: a free one).
# Every failed check stops the script with "package-test: FAILED: <what>" and status 1; every
# wait is bounded.
set -euo pipefail

deb=${1:?usage: package-test.sh PATH/echoscope_VERSION_ARCH.deb}
[ -f "$deb" ] || { echo "package-test: FAILED: no package file $deb" >&2; exit 1; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
binary=/usr/bin/echoscope

checks=0
ok() {
    checks=$((checks + 1))
    echo "package-test: ok: $*"
}
fail() {
    echo "package-test: FAILED: $*" >&2
    exit 1
}
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
apt_get() {
    as_root env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -q "$@"
}
installed() {
    dpkg-query -W -f='${Status}' echoscope 2>/dev/null | grep -q "install ok installed"
}
present() { # installed, or left half-installed by a failed installation
    local state
    state=$(dpkg-query -W -f='${db:Status-Status}' echoscope 2>/dev/null) &&
        [ "$state" != not-installed ] && [ "$state" != config-files ]
}

work=$(mktemp -d)
server_pid=
xvfb_pid=
we_installed=0
cleanup() {
    local status=$?
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
    if [ "$we_installed" = 1 ] && present; then
        echo "package-test: removing echoscope after the failure"
        apt_get remove -y echoscope >/dev/null || as_root dpkg --remove echoscope >/dev/null ||
            echo "package-test: could not remove echoscope" >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

# The package file itself.
name=$(dpkg-deb -f "$deb" Package)
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg-deb -f "$deb" Architecture)
depends=$(dpkg-deb -f "$deb" Depends)
[ "$name" = echoscope ] || fail "package name is \"$name\", not echoscope"
[ "$(basename "$deb")" = "echoscope_${version}_${arch}.deb" ] ||
    fail "file name $(basename "$deb") is not echoscope_${version}_${arch}.deb"
for dep in libqt6core6 libqt6gui6 libqt6widgets6 libqt6network6 libqt6httpserver6 libqt6websockets6 qt6-qpa-plugins; do
    [[ ", $depends" == *", $dep "* || ", $depends," == *", $dep,"* ]] ||
        fail "Depends does not name $dep: $depends"
done
ok "$(basename "$deb"): Depends: $depends"

# Install it the way a user would, but without Recommends (qt6-wayland), so that Depends alone
# must be enough.
if installed; then
    echo "package-test: echoscope is installed already; removing it first"
    apt_get remove -y echoscope
fi
we_installed=1
apt_get install -y --no-install-recommends "$deb" || fail "apt-get install $deb"
installed || fail "dpkg does not list echoscope as installed after apt-get install"
[ "$(dpkg-query -W -f='${Version}' echoscope)" = "$version" ] ||
    fail "installed version is $(dpkg-query -W -f='${Version}' echoscope), not $version"
ok "installed echoscope $version"

# The program.
[ -x "$binary" ] || fail "$binary is not an executable file"
[ "$(command -v echoscope)" = "$binary" ] || fail "echoscope on PATH is $(command -v echoscope)"
out=$(timeout 10 "$binary" --version) || fail "$binary --version exited with status $?"
[ "$out" = "echoscope $version" ] || fail "$binary --version printed \"$out\""
ok "$binary --version: $out"
if missing=$(ldd "$binary" | grep 'not found'); then
    fail "$binary lacks libraries: $missing"
fi
if rpath=$(readelf -d "$binary" | grep -E 'RPATH|RUNPATH'); then
    fail "$binary carries a library search path: $rpath"
fi
ok "every library found, no RPATH/RUNPATH"

# The desktop entry, the icons and the AppStream metainfo, owned by the package.
desktop=/usr/share/applications/echoscope.desktop
icons=(/usr/share/icons/hicolor/scalable/apps/echoscope.svg)
for size in 16 32 48 64 128 256; do
    icons+=("/usr/share/icons/hicolor/${size}x${size}/apps/echoscope.png")
done
mapfile -t metainfo < <(dpkg -L echoscope | grep '^/usr/share/metainfo/.*\.metainfo\.xml$')
[ ${#metainfo[@]} -eq 1 ] || fail "the package installs ${#metainfo[@]} metainfo files, not 1"
for file in "$desktop" "${icons[@]}" "${metainfo[0]}"; do
    [ -s "$file" ] || fail "$file is missing or empty"
    dpkg -S "$file" >/dev/null 2>&1 || fail "$file does not belong to a package"
done
for size in 16 32 48 64 128 256; do
    file "/usr/share/icons/hicolor/${size}x${size}/apps/echoscope.png" |
        grep -q "PNG image data, $size x $size," || fail "the ${size}x${size} icon is not $size px"
done
ok "desktop entry, ${#icons[@]} icons and ${metainfo[0]} in place"
desktop-file-validate "$desktop" || fail "desktop-file-validate $desktop"
grep -qx 'Exec=echoscope' "$desktop" || fail "$desktop does not run echoscope"
grep -qx 'Icon=echoscope' "$desktop" || fail "$desktop does not name the echoscope icon"
appstreamcli validate --no-net "${metainfo[0]}" || fail "appstreamcli validate ${metainfo[0]}"
grep -q '<launchable type="desktop-id">echoscope.desktop</launchable>' "${metainfo[0]}" ||
    fail "${metainfo[0]} does not launch echoscope.desktop"
ok "desktop-file-validate and appstreamcli validate pass"

# The handbook Help > Handbook (F1) opens, with the README, owned by the package; every
# relative link of the installed copy resolves (the layout is the source tree's).
doc=/usr/share/doc/echoscope
for file in "$doc/README.md" "$doc/docs/handbook/README.md" "$doc/docs/dashboard.png"; do
    [ -s "$file" ] || fail "$file is missing or empty"
    dpkg -S "$file" >/dev/null 2>&1 || fail "$file does not belong to the package"
done
if command -v python3 >/dev/null; then
    python3 "$(dirname "$0")/../check-links.py" "$doc" || fail "broken links in the installed handbook"
    ok "the handbook in $doc, every link resolving"
else
    ok "the handbook in $doc (links not checked: no python3)"
fi

# Headless: a real client's payload comes back byte for byte.
export XDG_CONFIG_HOME=$work/config XDG_RUNTIME_DIR=$work/runtime
mkdir -p "$XDG_CONFIG_HOME" && mkdir -m 700 "$XDG_RUNTIME_DIR"
# --foreground: timeout passes our SIGTERM on once; without it, it also signals its process
# group, and a second SIGTERM ends echoscope at once (by design) instead of in order.
coproc server { exec timeout --foreground 60 "$binary" --headless --bind 127.0.0.1 --port 0 2>&1; }
# shellcheck disable=SC2154 # server_PID is set by coproc
server_pid=$server_PID
exec {server_out}<&"${server[0]}"
read -r -t 10 line <&"$server_out" || fail "the headless server printed no listening line in 10 s"
[[ "$line" =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)$ ]] ||
    fail "the headless server's first line is \"$line\""
port=${BASH_REMATCH[1]}
ok "headless: $line"
python3 - "$port" <<'PY' || fail "echo over 127.0.0.1:$port"
import os, socket, sys, threading
payload = b"hello from package-test\n" + os.urandom(256 * 1024)
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as s:
    sender = threading.Thread(target=s.sendall, args=(payload,))
    sender.start()
    echoed = bytearray()
    while len(echoed) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            break
        echoed += chunk
    sender.join(10)
if bytes(echoed) != payload:
    sys.exit(f"sent {len(payload)} bytes, {len(echoed)} came back"
             + ("" if len(echoed) != len(payload) else ", different"))
PY
ok "headless: $((256 * 1024 + 24)) bytes echoed over 127.0.0.1:$port"
seen=
while read -r -t 10 line <&"$server_out"; do
    [[ "$line" == *"disconnected: closed by peer"* ]] && { seen=$line; break; }
done
[ -n "$seen" ] || fail "the headless server logged no \"closed by peer\" disconnect in 10 s"
ok "headless: ${seen#* }"
kill -TERM "$server_pid"
while read -r -t 10 line <&"$server_out"; do :; done # to the end of its output
status=0
wait "$server_pid" || status=$?
server_pid=
[ "$status" -eq 0 ] || fail "the headless server exited with status $status after SIGTERM"
ok "headless: orderly stop on SIGTERM, status 0"

# The dashboard starts and renders: offscreen, then on an X server (xcb, as on a desktop).
check_png() { # FILE WHAT
    python3 - "$1" <<'PY' || fail "$2: $1 is not a window-sized PNG"
import struct, sys
data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
    sys.exit("not a PNG")
width, height = struct.unpack(">II", data[16:24])
print(f"{width}x{height}, {len(data)} bytes")
if width < 640 or height < 400:
    sys.exit(f"{width}x{height} is smaller than a window")
PY
}
shot=$work/offscreen.png
QT_QPA_PLATFORM=offscreen timeout 60 "$binary" --port 0 --start --screenshot "$shot" \
    --screenshot-delay 500 || fail "dashboard (offscreen) exited with status $?"
size=$(check_png "$shot" "dashboard (offscreen)") || exit 1
ok "dashboard (offscreen) rendered $size"
if command -v Xvfb >/dev/null; then
    mkfifo "$work/displayfd"
    # shellcheck disable=SC2086 # an empty PACKAGE_TEST_DISPLAY lets Xvfb pick a free display
    Xvfb ${PACKAGE_TEST_DISPLAY:-} -displayfd 3 -screen 0 1400x900x24 -nolisten tcp \
        3>"$work/displayfd" 2>"$work/xvfb.log" &
    xvfb_pid=$!
    read -r -t 10 display <"$work/displayfd" || fail "Xvfb did not start in 10 s: $(cat "$work/xvfb.log")"
    shot=$work/xcb.png
    DISPLAY=:$display QT_QPA_PLATFORM=xcb timeout 60 "$binary" --port 0 --start \
        --screenshot "$shot" --screenshot-delay 500 || fail "dashboard (xcb) exited with status $?"
    size=$(check_png "$shot" "dashboard (xcb)") || exit 1
    ok "dashboard (xcb on Xvfb :$display) rendered $size"
    kill "$xvfb_pid"
    wait "$xvfb_pid" 2>/dev/null || true
    xvfb_pid=
else
    echo "package-test: no Xvfb, so the dashboard was not tried on X11 (xcb)"
fi

# Remove it again.
apt_get remove -y echoscope || fail "apt-get remove echoscope"
we_installed=0
installed && fail "dpkg still lists echoscope as installed after apt-get remove"
for file in "$binary" "$desktop" "${icons[@]}" "${metainfo[0]}"; do
    [ ! -e "$file" ] || fail "$file is still there after apt-get remove"
done
ok "removed: $binary and the desktop files are gone"
echo "package-test: all $checks checks passed for $(basename "$deb")"
