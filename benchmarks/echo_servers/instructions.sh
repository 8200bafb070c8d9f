#!/bin/sh
# Counts the user-space instructions one echoscope binary executes per oneshot connection,
# under valgrind's callgrind (see README-echo.md, "Instructions per connection").
#
#   benchmarks/echo_servers/instructions.sh ECHOSCOPE [SECONDS] [OUT_DIR]
#     e.g. benchmarks/echo_servers/instructions.sh build/app/echoscope
#
# CPU time per connection moves by ±10 % from run to run on a shared 2-core machine; the
# instruction count of the same binary repeats to a fraction of a percent, so a change of a
# few percent in the server's own work shows here when it cannot in bench_echo. It counts
# user space only (the kernel's share, most of a short connection's cost, is not in it).
# One connection at a time (`bench --connections 1`), so each wake-up serves one connection
# and the count does not depend on how many the server batches. Needs valgrind (Debian:
# apt-get install valgrind). Prints one line; callgrind's profile stays in OUT_DIR
# (default a temporary directory) for callgrind_annotate.
set -eu
echoscope=$1
seconds=${2:-10}
out=${3:-$(mktemp -d)}
mkdir -p "$out"
rm -f "$out"/callgrind.out*

valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$echoscope" --headless \
    --port 0 --threads 1 --max-clients 20000 --log-file /dev/null > "$out/server.out" \
    2> "$out/server.err" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do # valgrind starts slowly: up to 30 s
    grep -q '^listening on ' "$out/server.out" 2>/dev/null && break
    sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out/server.out" | head -n 1)
[ -n "$port" ] || { echo "echoscope did not start under valgrind (see $out/server.err)" >&2; exit 1; }

# Warm-up (first connections allocate pools and caches), then the counters are zeroed and
# the measured connections run; the count is dumped before anything else happens.
"$echoscope" bench --port "$port" --mode oneshot --connections 1 --size 1024 --warmup 1 \
    --duration 3 --quiet > /dev/null
callgrind_control --zero "$pid" > /dev/null 2>&1
"$echoscope" bench --port "$port" --mode oneshot --connections 1 --size 1024 --warmup 0 \
    --duration "$seconds" --quiet --json > "$out/bench.json"
callgrind_control --dump "$pid" > /dev/null 2>&1
kill "$pid"
wait "$pid" 2> /dev/null || true
trap - EXIT

profile=$out/callgrind.out.1 # the dump's file: callgrind numbers its dumps from 1
instructions=$(callgrind_annotate "$profile" 2> /dev/null |
    sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
connections=$(sed -n 's/.*"connections_opened": *\([0-9]*\).*/\1/p' "$out/bench.json")
if [ -z "$instructions" ] || [ -z "$connections" ] || [ "$connections" -eq 0 ]; then
    echo "no count (see $out)" >&2
    exit 1
fi
echo "$echoscope: $instructions instructions over $connections connections:" \
    "$((instructions / connections)) per connection (profile: $profile)"
