#!/usr/bin/env bash
# Echoscope's two everyday commands (see README.md):
#   ./echoscope.sh run [ECHOSCOPE ARGS...]  install what is missing, build, start Echoscope
#   ./echoscope.sh test [CTEST ARGS...]     install what is missing, build, run every test
# Environment: BUILD_DIR (default: build), BUILD_TYPE (default: RelWithDebInfo),
#              JOBS (default: number of cores), ECHOSCOPE_NO_INSTALL=1 to skip apt-get.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_dir=${BUILD_DIR:-$here/build}
build_type=${BUILD_TYPE:-RelWithDebInfo}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# Debian/Ubuntu packages the build and the tests need.
packages=(cmake g++ make qt6-base-dev libgl-dev)

install_missing() {
    [ "${ECHOSCOPE_NO_INSTALL:-0}" = 1 ] && return 0
    command -v dpkg-query >/dev/null 2>&1 || {
        echo "echoscope.sh: not a Debian-like system; install CMake, a C++17 compiler and Qt 6.4+ yourself" >&2
        return 0
    }
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "echoscope.sh: installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
    cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" "$@"
    cmake --build "$build_dir" --parallel "$jobs"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
run)
    install_missing
    build -DBUILD_TESTING=OFF
    exec "$build_dir/app/echoscope" "$@"
    ;;
test)
    install_missing
    build -DBUILD_TESTING=ON
    cd "$build_dir"
    exec ctest --output-on-failure --parallel "$jobs" "$@"
    ;;
*)
    sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
