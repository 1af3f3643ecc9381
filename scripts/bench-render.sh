#!/usr/bin/env bash
# Render speed against the floor: 10 clips of 45 s, 9:16 standard (1080x1920, CRF 20,
# veryfast) with captions, intro title and face reframing, from a 1080p30 talk with a face
# in it; against a bare ffmpeg encode of the same ranges to the same size with the same
# preset and no filters of ours (`-s 1080x1920` is the only processing), in one run.
#
#   scripts/bench-render.sh [--clips N] [--seconds S] [--separate] [--no-build] [--check]
#     --clips N    clips rendered (default 10)
#     --seconds S  length of each clip (default 45)
#     --separate   one `clipforge render` process per clip, taking turns with the floor
#                  clip by clip (default: all clips in one run, as `clipforge clip` does)
#     --no-build   use the clipforge binary as it is (default: scripts/setup.sh --build)
#     --check      exit 1 when clipforge takes more than 1.3x the floor
#
# The source (fixtures/generated/bench/render-source.mp4) is the 11-minute fixture talk
# (real speech, 1080p30) with a face (crates/reframe/tests/fixtures/face.png) drifting
# across it, made once; its transcript is made once with tiny.en. By default clipforge
# renders the clips as one `clipforge render SOURCE --start S --end S+45 --title ... ...`,
# timed as a whole process (probe, face analysis, captions and encodes included), between
# the floor's first and second halves so a slow spell of this shared machine hits both
# alike. Each clipforge run starts with an empty cache (its own TMPDIR), so face analysis
# is always paid for.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GOAL_RATIO=1.3
clips=10
seconds=45
build=1
check=0
separate=0
while [ $# -gt 0 ]; do
    case $1 in
    --clips | --seconds)
        [ $# -ge 2 ] || die "$1 needs a value"
        [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "$1 must be a positive whole number"
        if [ "$1" = --clips ]; then clips=$2; else seconds=$2; fi
        shift 2
        ;;
    --no-build) build=0 && shift ;;
    --separate) separate=1 && shift ;;
    --check) check=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

if [ "$build" -eq 1 ]; then
    "$ROOT/scripts/setup.sh" --build
fi
require_binary
"$ROOT/scripts/fixtures.sh" talk --minutes 11 >/dev/null

bench=$GENERATED/bench
mkdir -p "$bench"
source=$bench/render-source.mp4
face=$ROOT/crates/reframe/tests/fixtures/face.png
if [ ! -s "$source" ] || [ "$face" -nt "$source" ]; then
    log "making $source (once)"
    ffmpeg -v error -y -i "$GENERATED/talk-11m.mp4" -loop 1 -i "$face" \
        -filter_complex "[1]scale=300:-2[f];[0][f]overlay=x='810+500*sin(2*PI*t/40)':y='300+60*sin(2*PI*t/23)':shortest=1,format=yuv420p" \
        -c:v libx264 -preset ultrafast -crf 20 -g 60 -c:a copy "$bench/.render-source.mp4"
    mv "$bench/.render-source.mp4" "$source"
fi
transcript=$bench/render-source.transcript.json
if [ ! -s "$transcript" ] || [ "$source" -nt "$transcript" ]; then
    log "transcribing $source (once)"
    "$CLIPFORGE_BIN" transcribe "$source" --model "$MODELS_DIR/tiny.en" -o "$transcript"
fi
total=$(media_seconds "$source")
need=$(( clips * (seconds + 1) ))
awk "BEGIN{exit !($total >= $need + 5)}" || die "the source lasts $total s; $clips clips of $seconds s need $need s"

out=$bench/render-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
starts=()
for ((i = 0; i < clips; i++)); do starts+=("$(( 5 + i * (seconds + 1) ))"); done

# The floor: one bare encode of clip `$1`'s range; adds its wall time to $floor.
floor=0
floor_clip() {
    local started
    started=$(date +%s.%N)
    ffmpeg -v error -y -ss "$1" -i "$source" -t "$seconds" -s 1080x1920 \
        -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p -c:a aac -b:a 192k -movflags +faststart \
        "$out/floor-$1.mp4"
    floor=$(awk "BEGIN{print $floor + $(date +%s.%N) - $started}")
}

# clipforge: one `render` of the clips starting at "$@" (each its own --start/--end/--title)
# with an empty cache; adds its wall time to $ours and keeps the peak RSS.
ours=0
peak=0
run=0
ours_clips() {
    local args=() started rss s output=$out
    [ $# -eq 1 ] && output=$out/clip-$1.mp4
    for s in "$@"; do
        args+=(--start "$s" --end "$((s + seconds))" --title "Clip at $s seconds: why this moment matters")
    done
    run=$((run + 1))
    mkdir -p "$out/tmp-$run"
    started=$(date +%s.%N)
    TMPDIR=$out/tmp-$run measure "$out/time-$run" "$CLIPFORGE_BIN" render "$source" "${args[@]}" \
        --transcript "$transcript" --quality standard --aspect 9:16 -o "$output" 2>"$out/clips-$run.log" ||
        { tail -n 5 "$out/clips-$run.log" >&2; die "clipforge render failed (clips from $1 s)"; }
    ours=$(awk "BEGIN{print $ours + $(date +%s.%N) - $started}")
    rm -rf "${out:?}/tmp-$run"
    rss=$(measured_rss_mib "$out/time-$run")
    if [ "$rss" -gt "$peak" ]; then peak=$rss; fi
}

if [ "$separate" -eq 1 ]; then
    log "$clips clips, each as a bare encode to 1080x1920 (the floor) and as its own clipforge render with captions, title and reframing, taking turns"
    for s in "${starts[@]}"; do
        floor_clip "$s"
        ours_clips "$s"
    done
else
    log "$clips clips as bare encodes to 1080x1920 (the floor, half before and half after) and as one clipforge render with captions, title and reframing"
    half=$((clips / 2))
    for s in "${starts[@]:0:half}"; do floor_clip "$s"; done
    ours_clips "${starts[@]}"
    for s in "${starts[@]:half}"; do floor_clip "$s"; done
fi
floor=$(awk "BEGIN{printf \"%.1f\", $floor}")
ours=$(awk "BEGIN{printf \"%.1f\", $ours}")
ratio=$(awk "BEGIN{printf \"%.2f\", $ours / $floor}")
framing=$(grep -ho '(face)\|(center)\|(stack)\|(fit-blur)\|(fit-black)' "$out"/clips-*.log | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
mode=$([ "$separate" -eq 1 ] && echo "one process per clip" || echo "one run")

echo "source: $source ($(printf '%.0f' "$total") s, 1920x1080 30 fps); $clips clips x $seconds s ($mode); outputs in $out"
echo "render bench: clipforge $ours s, floor (bare ffmpeg encode) $floor s: ${ratio}x the floor" \
    "(goal <= ${GOAL_RATIO}x); peak RSS $peak MiB; framing:$framing"
if [ "$check" -eq 1 ] && ! awk "BEGIN{exit !($ratio <= $GOAL_RATIO)}"; then
    die "render is ${ratio}x the floor, over the ${GOAL_RATIO}x goal"
fi
