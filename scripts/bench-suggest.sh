#!/usr/bin/env bash
# Times `clipforge suggest` on a 60-minute transcript, transcription excluded.
#
#   scripts/bench-suggest.sh [--minutes N] [--runs N] [--cpus N] [--no-build] [--check]
#     --minutes N  length of the transcript (default 60)
#     --runs N     timed runs; the median is reported (default 3)
#     --cpus N     CPUs the runs may use, through taskset, when the machine has more
#                  (default 2, the machine the goal is set for)
#     --no-build   use the clipforge binary as it is (default: scripts/setup.sh --build)
#     --check      exit 1 when the median misses the goal (<= 10 s)
#
# The transcript is made from the evaluation podcasts' transcripts (scripts/suggest-eval.sh
# --prepare): joined end to end, repeated and shifted into one valid transcript of N
# minutes (scripts/suggest_eval.py concat). Each run is `clipforge suggest TRANSCRIPT
# --json`, timed as a whole process by /usr/bin/time (start-up and reading the JSON
# included). Prints the median wall time, the peak RSS and the goal; keeps every output
# under fixtures/generated/bench/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GOAL_S=10
minutes=60
runs=3
cpus=2
build=1
check=0
while [ $# -gt 0 ]; do
    case $1 in
    --minutes | --runs | --cpus)
        [ $# -ge 2 ] || die "$1 needs a value"
        [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 must be a positive whole number"
        case $1 in
        --minutes) minutes=$2 ;;
        --runs) runs=$2 ;;
        --cpus) cpus=$2 ;;
        esac
        shift 2
        ;;
    --no-build) build=0 && shift ;;
    --check) check=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

if [ "$build" -eq 1 ]; then
    "$ROOT/scripts/setup.sh" --build
fi
require_binary
"$ROOT/scripts/suggest-eval.sh" --prepare --no-build
"$CLIPFORGE_BIN" suggest --help >/dev/null 2>&1 ||
    die "$CLIPFORGE_BIN has no working suggest command: build a clipforge that has one"

out=$GENERATED/bench/suggest-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
transcript=$GENERATED/suggest/long-${minutes}m.transcript.json
python3 "$ROOT/scripts/suggest_eval.py" concat "$GENERATED"/suggest/podcast-*.transcript.json \
    --seconds "$((minutes * 60))" --out "$transcript" >&2

# Pin the runs to `cpus` CPUs when the machine has more, so figures from bigger machines
# compare with the goal.
pin=()
if [ "$(nproc)" -gt "$cpus" ] && command -v taskset >/dev/null 2>&1; then
    pin=(taskset -c "0-$((cpus - 1))")
fi
used=$((cpus < $(nproc) ? cpus : $(nproc)))

cat "$transcript" >/dev/null
walls=()
rss_max=0
for i in $(seq 1 "$runs"); do
    if ! measure "$out/run-$i.time" "${pin[@]}" "$CLIPFORGE_BIN" suggest "$transcript" --json \
        >"$out/run-$i.json" 2>"$out/run-$i.log"; then
        tail -n 5 "$out/run-$i.log" >&2
        die "clipforge suggest failed (log: $out/run-$i.log)"
    fi
    wall=$(measured_wall "$out/run-$i.time")
    rss=$(measured_rss_mib "$out/run-$i.time")
    walls+=("$wall")
    if [ "$rss" -gt "$rss_max" ]; then rss_max=$rss; fi
    log "run $i: $wall s, peak RSS $rss MiB, $(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["suggestions"]))' "$out/run-$i.json") suggestions"
done
median=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
met=$(awk "BEGIN{print ($median <= $GOAL_S) ? \"true\" : \"false\"}")

printf '{"transcript": "%s", "minutes": %s, "cpus": %s, "runs_s": [%s], "median_s": %s, "peak_rss_mib": %s, "goal_s": %s, "goal_met": %s}\n' \
    "$transcript" "$minutes" "$used" "$(IFS=,; echo "${walls[*]}")" "$median" "$rss_max" "$GOAL_S" "$met" >"$out/summary.json"
echo "transcript: $minutes minutes ($transcript), $runs runs on $used CPUs; outputs in $out"
printf 'suggest bench: median %s s (runs: %s), peak RSS %s MiB; goal <= %s s: %s\n' \
    "$median" "${walls[*]}" "$rss_max" "$GOAL_S" "$([ "$met" = true ] && echo met || echo missed)"
if [ "$check" -eq 1 ] && [ "$met" != true ]; then
    exit 1
fi
