#!/usr/bin/env bash
# Echoscope's two everyday commands (see README.md):
#   ./echoscope.sh run [ECHOSCOPE ARGS...]  install what is missing, build, start Echoscope
#   ./echoscope.sh test [CTEST ARGS...]     install what is missing, build, run every test
#   ./echoscope.sh asan [CTEST ARGS...]     every test built with ASan+UBSan (in build-asan)
#   ./echoscope.sh tsan [CTEST ARGS...]     the engine tests built with TSan (in build-tsan)
#                                           against Debian's Qt (its own locks are invisible)
#   ./echoscope.sh tsan-qt [CTEST ARGS...]  the same against a Qt built with TSan (qtbase from
#                                           Debian's source, Core/Network/Test, built once into
#                                           build-qt-tsan, ~40 min on 2 cores): the clean run
#   ./echoscope.sh portable [CTEST ARGS...] the engine tests with the portable POSIX I/O backend
#                                           (ECHOSCOPE_PORTABLE_IO: no epoll, accept4 or UDP
#                                           error queue), in build-portable
#   ./echoscope.sh fuzz [SECONDS]           each fuzz target over its seed corpus, SECONDS in all
#   ./echoscope.sh bench-smoke              build the benchmarks (in build) and run each for a
#                                           second or two: correctness only, no figures judged
#   ./echoscope.sh package                  the Debian package, build-package/echoscope_*.deb
#   ./echoscope.sh package-test             build it, install it with apt-get, try the installed
#                                           program (echo, dashboard, desktop files), remove it
#   ./echoscope.sh fresh-test [source|package|all]  in minimal Debian 12 roots (mmdebstrap):
#                                           the README's test command from a clean clone,
#                                           and the .deb with nothing but its Depends
#   ./echoscope.sh stress [REPEATS] [CTEST ARGS...]  every test but the conformance matrix,
#                                           each REPEATS times (default 5) until one fails,
#                                           under stress-ng --cpu 2 (two cores kept busy)
# Environment: BUILD_DIR (default: build; package: build-package), BUILD_TYPE (default:
#              RelWithDebInfo; package: Release), JOBS (default: number of cores),
#              ECHOSCOPE_NO_INSTALL=1 to skip apt-get, PACKAGE_TEST_DISPLAY=:N for Xvfb.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_dir=${BUILD_DIR:-$here/build}
build_type=${BUILD_TYPE:-RelWithDebInfo}
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# Debian/Ubuntu packages the build and the tests need.
# libssl3: Qt's TLS backend loads it at run time; openssl: tst_tls makes its certificates.
packages=(cmake g++ make qt6-base-dev libgl-dev libssl3 openssl)
# The Prometheus metrics endpoint (qt6-httpserver-dev) and the WebSocket echo
# (qt6-websockets-dev, which Debian 12's qt6-httpserver-dev also needs but does not
# depend on); python3-websockets: tst_websocket's WebSocket client not written by us.
packages+=(qt6-httpserver-dev qt6-websockets-dev python3-websockets)
# curl: tst_controlapi drives the control API with a client not written for Echoscope;
# python3-pytest runs the handbook's pytest example against it (ctest pytest_example).
packages+=(curl python3-pytest)
# tshark: tst_pcapng reads the pcapng files Echoscope writes with Wireshark's reader (its
# wireshark-common asks a debconf question, answered by DEBIAN_FRONTEND=noninteractive).
packages+=(tshark)
# The translations (translations/README.md): Qt's LinguistTools CMake package
# (qt6-tools-dev), lupdate and lrelease (qt6-l10n-tools), and Qt's own translations, which
# the dashboard loads for the user's language (qt6-translations-l10n).
packages+=(qt6-tools-dev qt6-l10n-tools qt6-translations-l10n)

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
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

build() {
    cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" "$@"
    cmake --build "$build_dir" --parallel "$jobs"
}

# Builds, in $build_dir (already configured), the programs that the tests labelled $1 run.
# Each test program is a target of its own name (checks of the sources, such as the docs
# and i18n labels, are not). A test is named after its program, or after it plus a suffix
# (tst_socketpoller_workerdispatcher runs tst_socketpoller with another setting): its name
# is reduced to the longest program name it starts with.
build_test_programs() {
    local labels=$1 name
    local programs=() targets=()
    mapfile -t programs < <(cmake --build "$build_dir" --target help |
        sed -n 's/^\.\.\. \(tst_[A-Za-z0-9_]*\).*/\1/p; s/^\(tst_[A-Za-z0-9_]*\): phony$/\1/p')
    while read -r name; do
        while [ -n "$name" ] && ! printf '%s\n' "${programs[@]}" | grep -qx "$name"; do
            [[ $name == *_* ]] && name=${name%_*} || name=
        done
        [ -z "$name" ] || printf '%s\n' "${targets[@]}" | grep -qx "$name" || targets+=("$name")
    done < <(cd "$build_dir" && ctest -N -L "$labels" |
        sed -n 's/^ *Test *#[0-9]*: \(tst_[A-Za-z0-9_]*\)$/\1/p')
    [ ${#targets[@]} -gt 0 ] || { echo "echoscope.sh: no tests labelled $labels" >&2; exit 1; }
    cmake --build "$build_dir" --parallel "$jobs" --target "${targets[@]}"
}

# The .deb: a Release build for /usr, without the tests, packed by CPack; sets $deb.
build_package() {
    build_dir=${BUILD_DIR:-$here/build-package}
    build_type=${BUILD_TYPE:-Release}
    rm -f "$build_dir"/echoscope_*.deb
    build -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX=/usr
    (cd "$build_dir" && cpack -G DEB)
    deb=$(echo "$build_dir"/echoscope_*.deb)
    [ -f "$deb" ] || { echo "echoscope.sh: cpack wrote no echoscope_*.deb in $build_dir" >&2; exit 1; }
    echo "echoscope.sh: built $deb"
}

# qtbase 6 (the version Debian ships, from Debian's source package) built with
# -sanitize thread: Core, Network (with the OpenSSL backend) and Test only.
build_qt_tsan() {
    local dir=$1 prefix=$2
    mkdir -p "$dir/src"
    local version
    version=$(dpkg-query -W -f='${Version}' qt6-base-dev | sed 's/+dfsg.*//; s/^[0-9]*://')
    if [ ! -f "$dir/src/.unpacked" ]; then
        echo "echoscope.sh: fetching the source of qt6-base $version (apt-get source)"
        if ! grep -rqs -e '^Types:.*deb-src' -e '^deb-src' /etc/apt/sources.list.d/ /etc/apt/sources.list; then
            # Debian's own entries, for sources too (deb822 format, as Debian 12 writes it).
            local main=/etc/apt/sources.list.d/debian.sources
            [ -f "$main" ] || {
                echo "echoscope.sh: no deb-src entry in APT's sources: add one and run apt-get update" >&2
                exit 1
            }
            sed 's/^Types: deb$/Types: deb-src/' "$main" |
                as_root tee /etc/apt/sources.list.d/echoscope-deb-src.sources >/dev/null
            as_root apt-get update -q
        fi
        (cd "$dir/src" && apt-get source --download-only "qt6-base=$(dpkg-query -W -f='${Version}' qt6-base-dev)")
        tar -C "$dir/src" -xf "$dir"/src/qt6-base_*.orig.tar.xz
        touch "$dir/src/.unpacked"
    fi
    local source
    source=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name 'qtbase*' | head -n1)
    [ -n "$source" ] || { echo "echoscope.sh: no qtbase directory in $dir/src" >&2; exit 1; }
    echo "echoscope.sh: building Qt $version with ThreadSanitizer into $prefix (once)"
    cmake -S "$source" -B "$dir/build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_INSTALL_PREFIX="$prefix" -DFEATURE_sanitize_thread=ON -DFEATURE_gui=OFF -DFEATURE_widgets=OFF \
        -DFEATURE_dbus=OFF -DFEATURE_sql=OFF -DFEATURE_xml=OFF -DFEATURE_concurrent=OFF \
        -DFEATURE_printsupport=OFF -DFEATURE_glib=OFF -DFEATURE_icu=OFF \
        -DFEATURE_openssl_runtime=ON -DQT_BUILD_EXAMPLES=OFF -DQT_BUILD_TESTS=OFF
    cmake --build "$dir/build" --parallel "$jobs"
    cmake --install "$dir/build"
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
asan)
    # AddressSanitizer + UndefinedBehaviorSanitizer (and LeakSanitizer) on every test.
    install_missing
    build_dir=${BUILD_DIR:-$here/build-asan}
    build -DBUILD_TESTING=ON -DECHOSCOPE_SANITIZE=address -DECHOSCOPE_BENCHMARKS=OFF
    asan_options=detect_leaks=1:detect_stack_use_after_return=1
    asan_options+=:check_initialization_order=1:strict_init_order=1
    export ASAN_OPTIONS=${ASAN_OPTIONS:-$asan_options}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    cd "$build_dir"
    exec ctest --output-on-failure --parallel "$jobs" "$@"
    ;;
tsan)
    # ThreadSanitizer on the engine tests; only they (and what they run) are built.
    install_missing
    build_dir=${BUILD_DIR:-$here/build-tsan}
    labels=${TSAN_LABELS:-unit|integration}
    cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" -DBUILD_TESTING=ON \
        -DECHOSCOPE_SANITIZE=thread
    build_test_programs "$labels"
    tsan_options=suppressions=$here/tests/tsan.supp:second_deadlock_stack=1:history_size=4
    export TSAN_OPTIONS=${TSAN_OPTIONS:-$tsan_options}
    cd "$build_dir"
    exec ctest --output-on-failure --parallel "$jobs" -L "$labels" "$@"
    ;;
portable)
    # The portable POSIX I/O backend that other systems get (DESIGN.md, "Platforms"), built
    # and tested on Linux: the engine tests and what they run (the echoscope binary for the
    # adversarial and load generator tests), not the widgets.
    install_missing
    build_dir=${BUILD_DIR:-$here/build-portable}
    labels=${PORTABLE_LABELS:-unit|integration|adversarial}
    cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" -DBUILD_TESTING=ON \
        -DECHOSCOPE_PORTABLE_IO=ON
    build_test_programs "$labels"
    cd "$build_dir"
    exec ctest --output-on-failure --parallel "$jobs" -L "$labels" "$@"
    ;;
tsan-qt)
    # ThreadSanitizer with a Qt that is instrumented too, so that TSan sees Qt's mutexes,
    # atomics and queued calls: no report may be suppressed as Qt-internal noise.
    packages+=(dpkg-dev libssl-dev xz-utils)
    install_missing
    qt_dir=${QT_TSAN_DIR:-$here/build-qt-tsan}
    qt_prefix=$qt_dir/install
    if [ ! -f "$qt_prefix/lib/cmake/Qt6Core/Qt6CoreConfig.cmake" ]; then
        build_qt_tsan "$qt_dir" "$qt_prefix"
    fi
    build_dir=${BUILD_DIR:-$here/build-tsan-qt}
    cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" -DBUILD_TESTING=ON \
        -DECHOSCOPE_ENGINE_ONLY=ON -DECHOSCOPE_SANITIZE=thread -DCMAKE_PREFIX_PATH="$qt_prefix"
    cmake --build "$build_dir" --parallel "$jobs"
    # With Qt instrumented every report is a finding; tests/tsan-qt.supp holds one lock-order
    # report inside Qt's own TLS initialisation, explained there.
    # die_after_fork=0: tst_tls runs openssl through QProcess (fork + exec) once servers run.
    tsan_options=suppressions=$here/tests/tsan-qt.supp:second_deadlock_stack=1:exitcode=66
    tsan_options+=:die_after_fork=0
    export TSAN_OPTIONS=${TSAN_OPTIONS:-$tsan_options}
    export QT_PLUGIN_PATH=$qt_prefix/plugins
    cd "$build_dir"
    exec ctest --output-on-failure --parallel "$jobs" "$@"
    ;;
fuzz)
    # libFuzzer (clang) with ASan+UBSan: each target in turn over a copy of its committed
    # seed corpus (tests/fuzz/corpus/<target>), SECONDS (default 60) split between them.
    seconds=${1:-60}
    case "$seconds" in
    '' | *[!0-9]*)
        echo "echoscope.sh: fuzz takes a number of seconds, not \"$seconds\"" >&2
        exit 2
        ;;
    esac
    packages+=(clang libclang-rt-dev) # libclang-rt-dev: libFuzzer and the sanitizer runtimes
    install_missing
    build_dir=${BUILD_DIR:-$here/build-fuzz}
    cmake -S "$here" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type" \
        -DCMAKE_CXX_COMPILER=clang++ -DBUILD_TESTING=OFF -DECHOSCOPE_SANITIZE=address \
        -DECHOSCOPE_FUZZ=ON
    cmake --build "$build_dir" --parallel "$jobs" --target fuzzers
    targets=()
    for corpus in "$here"/tests/fuzz/corpus/*/; do targets+=("$(basename "$corpus")"); done
    each=$(( seconds / ${#targets[@]} ))
    [ "$each" -ge 1 ] || each=1
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$build_dir/fuzz-artifacts"
    failed=()
    for target in "${targets[@]}"; do
        echo "== $target: ${each} s over tests/fuzz/corpus/$target"
        cp -r "$here/tests/fuzz/corpus/$target" "$work/$target"
        "$build_dir/tests/fuzz/$target" -max_total_time="$each" -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$build_dir/fuzz-artifacts/$target-" "$work/$target" 2>&1 |
            grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse)' || failed+=("$target")
    done
    if [ ${#failed[@]} -gt 0 ]; then
        echo "echoscope.sh: fuzz targets failed: ${failed[*]};" \
            "the inputs are in $build_dir/fuzz-artifacts/" >&2
        exit 1
    fi
    echo "echoscope.sh: every fuzz target ran ${each} s without a finding"
    ;;
bench-smoke)
    # Each benchmark for a second or two, so that it keeps working: its exit status says
    # whether every echo came back right, not whether the figures met their targets.
    install_missing
    build -DBUILD_TESTING=ON -DECHOSCOPE_BENCHMARKS=ON
    cmake --build "$build_dir" --parallel "$jobs" --target bench_echo bench_dashboard
    status=0
    echo "== bench_echo: pingpong and oneshot 1 KiB × 10, 1 s each, against Echoscope (1 and 2 threads)"
    timeout 120 "$build_dir/benchmarks/bench_echo" --smoke --seconds 1 --only 1k-10 \
        --servers epoll,echoscope-t1,echoscope-t2 || status=1
    echo "== bench_echo: pingpong 1 KiB × 100 beside 1,000 idle and alone, 1 s each, against the reference and Echoscope (1 thread)"
    timeout 180 "$build_dir/benchmarks/bench_echo" --smoke --seconds 1 --only beside \
        --hold-connections 1000 --servers epoll,echoscope-t1 || status=1
    echo "== bench_dashboard: stream, pingpong (1 s each) and churn (2 s), once each"
    QT_QPA_PLATFORM=offscreen timeout 120 "$build_dir/benchmarks/bench_dashboard" --smoke \
        --seconds 1 --churn-seconds 2 --repeats 1 2> >(grep -v 'OpenType support missing' >&2) ||
        status=1
    exit "$status"
    ;;
package)
    packages+=(dpkg-dev file) # dpkg-shlibdeps (and file) work out the package's Depends
    install_missing
    build_package
    ;;
package-test)
    packages+=(dpkg-dev file desktop-file-utils appstream python3 xvfb)
    install_missing
    build_package
    exec "$here/tests/package/package-test.sh" "$deb"
    ;;
fresh-test)
    # tests/fresh/fresh-machine.sh: what a bare Debian 12 gets (needs root or user namespaces).
    what=${1:-all}
    packages+=(mmdebstrap git)
    case "$what" in
    source)
        install_missing
        exec "$here/tests/fresh/fresh-machine.sh" source
        ;;
    package | all)
        packages+=(dpkg-dev file)
        install_missing
        build_package
        exec "$here/tests/fresh/fresh-machine.sh" "$what" "$deb"
        ;;
    *)
        echo "echoscope.sh: fresh-test takes source, package or all, not \"$what\"" >&2
        exit 2
        ;;
    esac
    ;;
stress)
    # Issue 17's load test (docs/handbook/testing.md, "Under load"): the timing-sensitive
    # programs must pass REPEATS times in a row while stress-ng keeps every core busy.
    repeats=${1:-5}
    case "$repeats" in
    '' | *[!0-9]* | 0)
        echo "echoscope.sh: stress takes a number of repeats (1 or more), not \"$repeats\"" >&2
        exit 2
        ;;
    esac
    [ $# -gt 0 ] && shift
    packages+=(stress-ng)
    install_missing
    build -DBUILD_TESTING=ON
    stress-ng --cpu 2 --timeout 3h --quiet &
    load=$!
    trap 'kill "$load" 2>/dev/null; wait "$load" 2>/dev/null' EXIT
    cd "$build_dir"
    start=$SECONDS
    status=0
    ctest --output-on-failure --parallel 2 --repeat "until-fail:$repeats" \
        --label-exclude 'docs|i18n' --exclude-regex tst_conformance "$@" || status=$?
    echo "echoscope.sh: stress, each test up to $repeats times under stress-ng --cpu 2:" \
        "exit status $status after $((SECONDS - start)) s"
    exit "$status"
    ;;
*)
    sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
