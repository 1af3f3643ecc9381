#!/usr/bin/env bash
# Jump cuts against auto-editor: both cut the silences out of the same 1080p30 talk of real
# speech, with their default settings, in one run; wall time, peak memory, how much each
# removed, and whether sound and picture stay in sync over the whole output.
#
#   scripts/bench-jumpcut.sh [--minutes N] [--no-build] [--no-peer] [--check]
#     --minutes N  length of the talk (default 11)
#     --no-build   use the clipforge binary as it is (default: scripts/setup.sh --build)
#     --no-peer    skip auto-editor (ours only)
#     --check      exit 1 when clipforge takes more than 0.33x auto-editor's time or
#                  either output drifts by more than a frame
#
# The source (fixtures/generated/bench/jumpcut-<N>m.mp4) is the fixture talk with its own
# sound drawn into the picture: a waveform band across the bottom of every frame, made
# once. scripts/av_sync.py then finds, in windows spread over each output, the lag between
# that band and the output's sound, so sync is measured the same way for both tools.
# auto-editor is Debian's package (installed here if missing).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GOAL_RATIO=0.33
minutes=11
build=1
peer=1
check=0
while [ $# -gt 0 ]; do
    case $1 in
    --minutes)
        [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || die "--minutes needs a positive whole number"
        minutes=$2
        shift 2
        ;;
    --no-build) build=0 && shift ;;
    --no-peer) peer=0 && shift ;;
    --check) check=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

if [ "$build" -eq 1 ]; then
    "$ROOT/scripts/setup.sh" --build
fi
require_binary
if [ "$peer" -eq 1 ] && ! command -v auto-editor >/dev/null 2>&1; then
    log "installing auto-editor (Debian package)"
    as_root apt-get install -y -q auto-editor >/dev/null
fi
"$ROOT/scripts/fixtures.sh" talk --minutes "$minutes" >/dev/null

bench=$GENERATED/bench
mkdir -p "$bench"
talk=$GENERATED/talk-${minutes}m.mp4
source=$bench/jumpcut-${minutes}m.mp4
if [ ! -s "$source" ] || [ "$talk" -nt "$source" ]; then
    log "making $source (once): the talk with its sound drawn into the picture"
    ffmpeg -v error -y -i "$talk" -filter_complex \
        "[0:a]aformat=channel_layouts=mono,showwaves=s=1920x120:mode=cline:rate=30:colors=white[w];[0:v][w]overlay=0:940:shortest=1,format=yuv420p[v]" \
        -map "[v]" -map 0:a -c:v libx264 -preset veryfast -crf 20 -g 60 -c:a copy "$bench/.jumpcut-src.mp4"
    mv "$bench/.jumpcut-src.mp4" "$source"
fi
total=$(media_seconds "$source")
out=$bench/jumpcut-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"

# Seconds removed, and the gap between the sound's and the picture's lengths in frames.
summarize() {
    local file=$1 fps a v
    fps=$(ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate -of default=nw=1:nk=1 "$file")
    v=$(ffprobe -v error -select_streams v:0 -show_entries stream=duration -of default=nw=1:nk=1 "$file")
    a=$(ffprobe -v error -select_streams a:0 -show_entries stream=duration -of default=nw=1:nk=1 "$file")
    awk -v t="$total" -v d="$(media_seconds "$file")" -v a="$a" -v v="$v" -v fps="$fps" 'BEGIN{
        split(fps, f, "/"); r = f[1] / f[2];
        printf "%.1f s out, %.1f s removed (%.0f %%), sound vs picture length %.2f frames", d, t - d, 100 * (t - d) / t, (a - v) * r }'
}

theirs=0
if [ "$peer" -eq 1 ]; then
    log "auto-editor $(auto-editor --version 2>/dev/null | head -n 1) on $source (default settings)"
    measure "$out/time-auto-editor" auto-editor "$source" --no-open --temp-dir "$out/ae-tmp" \
        -o "$out/auto-editor.mp4" >"$out/auto-editor.log" 2>&1 ||
        { tail -n 5 "$out/auto-editor.log" >&2; die "auto-editor failed"; }
    theirs=$(measured_wall "$out/time-auto-editor")
fi
log "clipforge jumpcut on $source (default settings)"
measure "$out/time-clipforge" "$CLIPFORGE_BIN" jumpcut "$source" -o "$out/clipforge.mp4" \
    >"$out/clipforge.log" 2>&1 || { tail -n 5 "$out/clipforge.log" >&2; die "clipforge jumpcut failed"; }
ours=$(measured_wall "$out/time-clipforge")

lag_of() { python3 "$ROOT/scripts/av_sync.py" "$1" --windows 7 | tee "$1.sync" | tail -n 1 | cut -d' ' -f2; }
our_lag=$(lag_of "$out/clipforge.mp4")
echo "source: $source ($(printf '%.0f' "$total") s, 1920x1080 30 fps); outputs in $out"
echo "clipforge jumpcut: ${ours} s, peak RSS $(measured_rss_mib "$out/time-clipforge") MiB; $(summarize "$out/clipforge.mp4"); worst sync lag ${our_lag} frames"
status=0
if [ "$peer" -eq 1 ]; then
    their_lag=$(lag_of "$out/auto-editor.mp4")
    ratio=$(awk "BEGIN{printf \"%.2f\", $ours / $theirs}")
    echo "auto-editor:       ${theirs} s, peak RSS $(measured_rss_mib "$out/time-auto-editor") MiB; $(summarize "$out/auto-editor.mp4"); worst sync lag ${their_lag} frames"
    echo "jumpcut bench: clipforge ${ours} s, auto-editor ${theirs} s: ${ratio}x its time (goal <= ${GOAL_RATIO}x)"
    if [ "$check" -eq 1 ] && ! awk "BEGIN{exit !($ratio <= $GOAL_RATIO)}"; then
        log "clipforge took ${ratio}x auto-editor's time, over the ${GOAL_RATIO}x goal" && status=1
    fi
fi
if [ "$check" -eq 1 ] && [ "$our_lag" -gt 1 ]; then
    log "clipforge's output drifts by $our_lag frames" && status=1
fi
exit "$status"
