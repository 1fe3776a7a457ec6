#!/usr/bin/env bash
# Ingest throughput of `tocsin run` (SQLite, a fresh data directory per run)
# without alert rules and with the 100 rules of
# rules/testdata/bench-rules.jsonl (BenchmarkIngestRules's), alternating.
# Prints one line per run: rules, events/s, server CPU ms per event, and
# how long after the load every activity was evaluated.
#
#   bench/rules-ab.sh [RUNS=3] [EVENTS=10000]
set -euo pipefail
runs=${1:-3}
events=${2:-10000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$work/tocsin
(cd "$root" && go build -o "$bin" ./cmd/tocsin)
tick=$(getconf CLK_TCK)

one() { # one run with $1 rules (0 or 100)
	local d=$work/run-$RANDOM port=$((20000 + RANDOM % 20000))
	mkdir -p "$d"
	TOCSIN_ADMIN_EMAIL=bench@example.com TOCSIN_ADMIN_PASSWORD=bench-password-123 \
		"$bin" run --data-dir "$d" --addr 127.0.0.1:$port >"$d/out.log" 2>&1 &
	local pid=$!
	until grep -q 'DSN' "$d/out.log"; do sleep 0.1; done
	local dsn token api
	dsn=$(grep -o 'http://[^ ]*@127.0.0.1:[0-9]*/[0-9]*' "$d/out.log" | head -1)
	token=$("$bin" token create --user bench@example.com --data-dir "$d")
	api=http://127.0.0.1:$port/api/0/projects/default/default/rules/
	for id in $(curl -sf -H "Authorization: Bearer $token" "$api" | jq -r '.[].id'); do
		curl -sf -X DELETE -H "Authorization: Bearer $token" "$api$id/" >/dev/null
	done
	if [ "$1" -gt 0 ]; then
		head -n "$1" "$root/rules/testdata/bench-rules.jsonl" | while read -r js; do
			curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$js" "$api" >/dev/null
		done
	fi
	local cpu0 out cpu1 start end
	cpu0=$(awk '{print $14+$15}' /proc/$pid/stat)
	out=$("$bin" bench ingest --dsn "$dsn" -c 32 -n "$events")
	cpu1=$(awk '{print $14+$15}' /proc/$pid/stat)
	start=$(date +%s.%N)
	until [ "$(curl -s http://127.0.0.1:$port/metrics | awk '/^tocsin_worker_activities_total/ {n += $2} END {print n + 0}')" -ge "$events" ]; do
		sleep 0.05
	done
	end=$(date +%s.%N)
	kill "$pid"
	wait "$pid" || true
	printf 'rules=%-3s %7s events/s  %.3f cpu-ms/event  evaluated %.2f s after the load\n' "$1" \
		"$(echo "$out" | awk '$1 == "events/s" {print $2}')" \
		"$(echo "($cpu1 - $cpu0) * 1000 / $tick / $events" | bc -l)" "$(echo "$end - $start" | bc -l)"
}

for _ in $(seq "$runs"); do
	one 0
	one 100
done
