#!/bin/sh
# Profiles one echo server under one `echoscope bench` load with perf (see README-echo.md).
#
#   benchmarks/echo_servers/profile.sh BUILD_DIR SERVER MODE CONNECTIONS SIZE [SECONDS]
#     SERVER: epoll | qt-naive | echoscope-t1 | echoscope-t2
#     e.g.    benchmarks/echo_servers/profile.sh build echoscope-t1 pingpong 100 1024
#
# Prints the bench result, the server's syscall counts per round trip, and perf's flat
# profile (self time, by symbol and by library); perf.data stays in $OUT (default a
# temporary directory) for `perf report -i`. Needs perf (Debian: apt-get install linux-perf).
# PERF_FREQ sets perf's sampling rate (default 999 Hz; a short connection's work is spread
# thin, so its profile wants more samples, e.g. PERF_FREQ=4999).
set -eu
build=$1 server=$2 mode=$3 connections=$4 size=$5 seconds=${6:-5}
echoscope=$build/app/echoscope
bench_echo=$build/benchmarks/bench_echo
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"

case $server in
    epoll) set -- "$bench_echo" --serve-epoll ;;
    qt-naive) set -- "$bench_echo" --serve-qt ;;
    echoscope-t*) set -- "$echoscope" --headless --port 0 --threads "${server#echoscope-t}" \
                      --max-clients 20000 --log-file /dev/null ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
esac
"$@" > "$out/server.out" 2> "$out/server.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q '^listening on ' "$out/server.out" 2>/dev/null && break
    sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out/server.out" | head -n 1)
[ -n "$port" ] || { echo "$server did not start" >&2; exit 1; }

# Load for warm-up + the perf window + a margin.
"$echoscope" bench --port "$port" --mode "$mode" --connections "$connections" --size "$size" \
    --warmup 1 --duration $((seconds * 2 + 2)) --quiet > "$out/bench.txt" &
bench=$!
sleep 1.5
perf stat -e raw_syscalls:sys_enter,context-switches,task-clock -p "$pid" -o "$out/stat.txt" \
    -- sleep "$seconds"
perf record -q -F "${PERF_FREQ:-999}" --call-graph dwarf,16384 -p "$pid" -o "$out/perf.data" -- sleep "$seconds" \
    2> /dev/null
wait $bench || true
cat "$out/bench.txt"
grep -E 'raw_syscalls|context-switches|task-clock|seconds time' "$out/stat.txt"
echo "--- self time by library"
perf report -i "$out/perf.data" --no-children --sort dso --stdio 2> /dev/null |
    grep -E '^ +[0-9]' | head -n 8
echo "--- self time by symbol"
perf report -i "$out/perf.data" --no-children --sort symbol --stdio -g none 2> /dev/null |
    grep -E '^ +[0-9]' | head -n "${TOP:-30}"
echo "perf data: $out/perf.data"
