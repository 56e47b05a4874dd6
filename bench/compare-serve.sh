#!/usr/bin/env bash
# bench/compare-serve.sh BASELINE_DIR [CANDIDATE_DIR] — the single-row v1 predict hot path of two
# built checkouts (each with `npm run build` done), side by side: wrk -t1 -c32 against each in
# alternating rounds, server CPU per request from /proc/<pid>/stat. Prints each round, then the
# means and the candidate's ratios. Use it to check that a change leaves the hot path no slower:
#   git worktree add /tmp/base <commit> && (cd /tmp/base && ln -s "$PWD/node_modules" . && npx nest build)
#   bench/compare-serve.sh /tmp/base .
# Needs wrk (apt-get install wrk). ROUNDS (10) and SECONDS_PER_ROUND (5) tune it.
set -euo pipefail
baseline=$(cd "$1" && pwd)
candidate=$(cd "${2:-.}" && pwd)
rounds=${ROUNDS:-10}
seconds=${SECONDS_PER_ROUND:-5}
key=compare-serve-admin-key-0123456789abcdef
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

start() { # dir port → pid in $work/pid-port
  mkdir -p "$work/data-$2"
  (cd "$1" && exec env NODE_ENV=production DATA_DIR="$work/data-$2" PORT="$2" HOST=127.0.0.1 LOG_LEVEL=warn \
    MODELDOCK_ADMIN_KEY=$key RATE_LIMIT_PREDICT_PER_MINUTE=100000000 RATE_LIMIT_MANAGEMENT_PER_MINUTE=1000000 \
    node dist/src/main.js >"$work/log-$2" 2>&1) &
  echo $! >"$work/pid-$2"
  pids+=($!)
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$2/health/ready" >/dev/null && break; sleep 0.2; done
  curl -sf -X POST "http://127.0.0.1:$2/v1/models/bench/versions" -H "authorization: Bearer $key" \
    -H 'content-type: application/json' -d '{"artifact":{"format":"modeldock/v1","algorithm":"linear-regression",
    "inputs":[{"name":"a","type":"number"},{"name":"b","type":"number"},{"name":"c","type":"number"}],
    "output":{"name":"y","type":"number"},"coefficients":[1,2,3],"intercept":0.5}}' >/dev/null
}
start "$baseline" 3301
start "$candidate" 3302
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"instances":[[1,2,3]]}'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $key"
LUA
cpu_ticks() { awk '{print $14 + $15}' "/proc/$(cat "$work/pid-$1")/stat"; }
run() { # port → "req/s cpu-µs-per-request"
  local before after out
  before=$(cpu_ticks "$1")
  out=$(wrk -t1 -c32 -d"${seconds}s" -s "$work/post.lua" "http://127.0.0.1:$1/v1/models/bench/predict")
  after=$(cpu_ticks "$1")
  echo "$out" | grep -q 'Non-2xx' && { echo "port $1 answered errors: $out" >&2; exit 1; }
  local requests rate
  requests=$(echo "$out" | awk '/requests in/{print $1}')
  rate=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  echo "$rate $(((after - before) * 1000000 / $(getconf CLK_TCK) / requests))"
}
for port in 3301 3302; do run $port >/dev/null; done # warm-up
for round in $(seq 1 "$rounds"); do
  echo "round $round baseline $(run 3301) candidate $(run 3302)"
done | tee "$work/rounds" | sed 's/$/  (req\/s, server CPU µs per request)/'
awk '{br+=$4; bc+=$5; cr+=$7; cc+=$8; n++}
  END {printf "baseline %.0f req/s, %.0f µs CPU per request; candidate %.0f req/s, %.0f µs; candidate/baseline: %.2f× req/s, %.2f× CPU per request\n",
    br/n, bc/n, cr/n, cc/n, (cr/n)/(br/n), (cc/n)/(bc/n)}' "$work/rounds"
