#!/usr/bin/env bash
# The fresh-machine check: what a user with a bare Debian 12 gets, tried in minimal roots
# built with mmdebstrap (Debian package mmdebstrap) from this machine's Debian mirror.
#
#   tests/fresh/fresh-machine.sh source            a clean clone of the commit under test
#                                                  (HEAD), and the README's test command run
#                                                  in it exactly as written:
#                                                  ./echoscope.sh test
#   tests/fresh/fresh-machine.sh package DEB       another fresh root: DEB installed with
#                                                  apt-get and nothing but its Depends, then
#                                                  tests/fresh/check-installed.sh inside it
#                                                  (--version, a headless echo with bash's
#                                                  /dev/tcp, an offscreen screenshot)
#   tests/fresh/fresh-machine.sh all DEB           both
#
# Each root is `mmdebstrap --variant=minbase bookworm` (essential packages and apt), lives in
# a temporary directory under FRESH_TMPDIR (default /tmp) and is gone afterwards, also after
# a failure or a timeout: mmdebstrap removes its own, and this script unmounts and removes
# whatever is left. Each root has a time limit (FRESH_SOURCE_SECONDS, default 3600;
# FRESH_PACKAGE_SECONDS, default 900). Needs root (mmdebstrap's root mode) or unprivileged
# user namespaces (its unshare mode).
#
# Downloads: the roots use the mirrors in /etc/apt/sources.list.d/debian.sources (or
# /etc/apt/sources.list). This machine's APT cache (/var/cache/apt/archives) is hard-linked
# (or copied) into each root first, so that packages already downloaded here are not
# downloaded again; APT checks every package against the root's own index either way, and
# the root installs only what it asks for. FRESH_NO_CACHE=1 downloads everything.
#
# The screenshot is copied out to FRESH_SCREENSHOT (default: fresh-screenshot.png next to
# the DEB). Exit status 0 when every step passed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
self=$here/tests/fresh/fresh-machine.sh
suite=bookworm

say() { echo "fresh-machine: $*"; }
fail() {
    echo "fresh-machine: FAILED: $*" >&2
    exit 1
}

# --- hooks: mmdebstrap runs these with the root directory as $2 -----------------------
# (They are this script again, so that they see the same code as the caller.)
chroot_run() { # ROOT COMMAND...: a login-like clean environment inside the root
    local root=$1
    shift
    chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        TERM=dumb "$@"
}

case "${1:-}" in
hook-seed-cache)
    # Packages already downloaded on this machine, so the root need not fetch them again.
    root=$2
    [ "${FRESH_NO_CACHE:-0}" = 1 ] && exit 0
    mkdir -p "$root/var/cache/apt/archives/partial"
    shopt -s nullglob
    debs=(/var/cache/apt/archives/*.deb)
    [ ${#debs[@]} -gt 0 ] || exit 0
    cp -l "${debs[@]}" "$root/var/cache/apt/archives/" 2>/dev/null ||
        cp "${debs[@]}" "$root/var/cache/apt/archives/"
    exit 0
    ;;
hook-clone)
    # A clean clone of the commit under test: committed files only, nothing from the
    # working tree or the build directories.
    root=$2
    git clone --quiet --no-local --no-checkout "$FRESH_REPO" "$root/root/echoscope"
    git -C "$root/root/echoscope" checkout --quiet --detach "$FRESH_COMMIT"
    say "cloned $(git -C "$root/root/echoscope" log -1 --format='%h %s' | cut -c1-80)"
    exit 0
    ;;
hook-readme-test)
    root=$2
    say "running, as root in the fresh root: cd echoscope && ./echoscope.sh test"
    start=$SECONDS
    chroot_run "$root" /bin/sh -c 'cd /root/echoscope && ./echoscope.sh test'
    say "./echoscope.sh test passed in the fresh root in $((SECONDS - start)) s"
    exit 0
    ;;
hook-install-deb)
    root=$2
    cp "$FRESH_DEB" "$root/tmp/"
    cp "$here/tests/fresh/check-installed.sh" "$root/tmp/check-installed.sh"
    say "apt-get install --no-install-recommends ./$(basename "$FRESH_DEB") in a fresh root"
    chroot_run "$root" /bin/sh -c "cd /tmp && DEBIAN_FRONTEND=noninteractive apt-get install \
        -y -q --no-install-recommends ./$(basename "$FRESH_DEB")"
    exit 0
    ;;
hook-check-installed)
    root=$2
    status=0
    chroot_run "$root" /bin/bash /tmp/check-installed.sh || status=$?
    if [ -f "$root/tmp/fresh-screenshot.png" ]; then
        cp "$root/tmp/fresh-screenshot.png" "$FRESH_SCREENSHOT"
        say "screenshot copied to $FRESH_SCREENSHOT"
    fi
    exit "$status"
    ;;
esac

# --- the driver ----------------------------------------------------------------------
mode=${1:-}
deb=${2:-}
case "$mode" in
source) ;;
package | all)
    [ -n "$deb" ] && [ -f "$deb" ] || fail "usage: fresh-machine.sh $mode PATH/echoscope_*.deb"
    deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
    ;;
*)
    sed -n '2,30p' "$self" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
command -v mmdebstrap >/dev/null || fail "mmdebstrap is not installed (apt-get install mmdebstrap)"

sources=
for candidate in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    if [ -s "$candidate" ] && grep -qE '^(Types:|deb )' "$candidate"; then
        sources=$candidate
        break
    fi
done
[ -n "$sources" ] || fail "no Debian mirror configured in /etc/apt/sources.list(.d/debian.sources)"

work=$(mktemp -d "${FRESH_TMPDIR:-/tmp}/echoscope-fresh.XXXXXX")
cleanup() {
    local status=$?
    # mmdebstrap unmounts and removes its root itself; after a kill it may not have: undo
    # any mount left under $work, deepest first, then remove it without leaving this
    # file system.
    local mounts
    mounts=$(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
    for m in $mounts; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$work" 2>/dev/null || true
    [ -d "$work" ] && echo "fresh-machine: could not remove $work" >&2
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export FRESH_REPO=$here FRESH_COMMIT FRESH_DEB=$deb
FRESH_COMMIT=$(git -C "$here" rev-parse HEAD)
export FRESH_SCREENSHOT=${FRESH_SCREENSHOT:-${deb%/*}/fresh-screenshot.png}

mm() { # SECONDS HOOK-ARGS...: one minimal root, gone afterwards
    local seconds=$1
    shift
    timeout --signal=TERM --kill-after=60 "$seconds" env TMPDIR="$work" \
        mmdebstrap --variant=minbase --mode=auto --skip=download/empty \
        --setup-hook="\"$self\" hook-seed-cache \"\$1\"" "$@" "$suite" /dev/null "$sources"
}

total=$SECONDS
if [ "$mode" = source ] || [ "$mode" = all ]; then
    start=$SECONDS
    say "source: a minimal $suite root, a clean clone of $FRESH_COMMIT, the README's test command"
    mm "${FRESH_SOURCE_SECONDS:-3600}" \
        --customize-hook="\"$self\" hook-clone \"\$1\"" \
        --customize-hook="\"$self\" hook-readme-test \"\$1\"" ||
        fail "the README's test command in a fresh root (see above)"
    say "source: passed in $((SECONDS - start)) s"
fi
if [ "$mode" = package ] || [ "$mode" = all ]; then
    start=$SECONDS
    say "package: a minimal $suite root, $(basename "$deb") with its Depends only"
    mm "${FRESH_PACKAGE_SECONDS:-900}" \
        --customize-hook="\"$self\" hook-install-deb \"\$1\"" \
        --customize-hook="\"$self\" hook-check-installed \"\$1\"" ||
        fail "the package in a fresh root (see above)"
    say "package: passed in $((SECONDS - start)) s"
fi
say "every check passed in $((SECONDS - total)) s"
