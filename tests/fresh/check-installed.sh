#!/bin/bash
# Runs inside a fresh minimal Debian 12 root where only the echoscope package and its
# Depends were installed (tests/fresh/fresh-machine.sh package). Uses nothing the package
# does not bring but what every Debian system has (bash, coreutils, diffutils, dpkg): the
# echo client is bash's own /dev/tcp, the PNG is checked with od. Every wait is bounded.
set -euo pipefail

checks=0
ok() {
    checks=$((checks + 1))
    echo "check-installed: ok: $*"
}
fail() {
    echo "check-installed: FAILED: $*" >&2
    exit 1
}
work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# Installed from the package file alone, Recommends left out: what was installed is the
# package, its Depends and theirs. These libraries must be among them.
dpkg-query -W -f='${Status}' echoscope | grep -q "install ok installed" || fail "echoscope is not installed"
depends=$(dpkg-query -W -f='${Depends}' echoscope)
for dep in libqt6core6 libqt6gui6 libqt6widgets6 libqt6network6 libqt6httpserver6 qt6-qpa-plugins; do
    [[ ", $depends," == *", $dep "* || ", $depends," == *", $dep,"* ]] ||
        fail "Depends does not name $dep: $depends"
    dpkg-query -W -f='${Status}' "$dep" | grep -q "install ok installed" || fail "$dep is not installed"
done
ok "Depends: $depends"
recommends=$(dpkg-query -W -f='${Recommends}' echoscope)
for r in ${recommends//,/ }; do
    case "$r" in '('* | *')' | '|' | '') continue ;; esac
    if dpkg-query -W -f='${Status}' "$r" 2>/dev/null | grep -q "install ok installed"; then
        fail "Recommends $r was installed: this root is not Depends-only"
    fi
done
for dev in qt6-base-dev g++ cmake; do
    if dpkg-query -W -f='${Status}' "$dev" 2>/dev/null | grep -q "install ok installed"; then
        fail "$dev is installed: this root is not fresh"
    fi
done
ok "no build tools and no Recommends ($recommends) installed"

version=$(timeout 30 echoscope --version) || fail "echoscope --version"
[[ $version == "echoscope "[0-9]* ]] || fail "echoscope --version printed: $version"
ok "$version"

# Headless echo: the port from the "listening on" line, then 256 KiB of random bytes (every
# byte value) sent through bash's /dev/tcp and every byte compared on the way back.
# --foreground: our SIGTERM reaches echoscope once (timeout would also signal its process
# group, and a second SIGTERM ends echoscope at once, by design, instead of in order).
export XDG_RUNTIME_DIR=$work/runtime
mkdir -m 700 "$XDG_RUNTIME_DIR"
timeout --foreground 60 echoscope --headless --bind 127.0.0.1 --port 0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/server.out" | head -n1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || fail "no 'listening on' line: $(cat "$work/server.out" "$work/server.err")"
ok "listening on 127.0.0.1:$port"
head -c $((256 * 1024)) /dev/urandom >"$work/sent"
size=$(stat -c %s "$work/sent")
exec 3<>"/dev/tcp/127.0.0.1/$port"
cat "$work/sent" >&3 &
writer=$!
timeout 30 head -c "$size" <&3 >"$work/received" || true
wait "$writer" || fail "writing to the server"
exec 3>&-
cmp -s "$work/sent" "$work/received" ||
    fail "the echo differs: sent $size bytes, got $(stat -c %s "$work/received")"
ok "echoed $size random bytes exactly (bash /dev/tcp)"
for _ in $(seq 1 100); do
    grep -q "disconnected: closed by peer" "$work/server.out" && break
    sleep 0.1
done
grep -q "disconnected: closed by peer" "$work/server.out" ||
    fail "the server did not log the disconnect: $(cat "$work/server.out")"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
[ "$status" -eq 0 ] || fail "SIGTERM: exit status $status"
ok "logged the disconnect, stopped on SIGTERM with status 0"

# The dashboard, offscreen (the platform plugin comes with the Depends).
rm -f /tmp/fresh-screenshot.png
QT_QPA_PLATFORM=offscreen timeout 60 echoscope --port 0 --start --screenshot /tmp/fresh-screenshot.png \
    --screenshot-delay 500 >"$work/ui.out" 2>"$work/ui.err" || fail "the offscreen screenshot: $(cat "$work/ui.err")"
[ -s /tmp/fresh-screenshot.png ] || fail "no screenshot written: $(cat "$work/ui.err")"
signature=$(head -c 8 /tmp/fresh-screenshot.png | od -An -tx1 | tr -d ' \n')
[ "$signature" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG ($signature)"
width=$((16#$(od -An -tx1 -j16 -N4 /tmp/fresh-screenshot.png | tr -d ' \n')))
height=$((16#$(od -An -tx1 -j20 -N4 /tmp/fresh-screenshot.png | tr -d ' \n')))
[ "$width" -ge 640 ] && [ "$height" -ge 400 ] || fail "the screenshot is ${width}x${height}"
ok "offscreen screenshot, a ${width}x${height} PNG of $(stat -c %s /tmp/fresh-screenshot.png) bytes"

echo "check-installed: all $checks checks passed"
