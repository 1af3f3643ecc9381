#!/usr/bin/env bash
# The main job on a sample made from real speech: installs what is missing, builds
# clipforge, makes a short talk video from the librivox read-speech clips, transcribes it
# to SRT subtitles with the local Whisper model and scores the words against the
# reference text.
#
#   scripts/demo.sh [--model DIR] [--threads N]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

extra=()
while [ $# -gt 0 ]; do
    case $1 in
    --model | --threads)
        [ $# -ge 2 ] || die "$1 needs a value"
        extra+=("$1" "$2")
        shift 2
        ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

"$ROOT/scripts/setup.sh" --build
require_binary
"$ROOT/scripts/fixtures.sh" librivox-talk

input=$GENERATED/librivox-talk.mp4
out=$GENERATED/demo
mkdir -p "$out"
srt=$out/librivox-talk.srt
rm -f "$srt"

log "transcribing $input"
if ! measure "$out/time" "$CLIPFORGE_BIN" transcribe "$input" --format srt -o "$srt" "${extra[@]}"; then
    die "clipforge transcribe failed"
fi
[ -s "$srt" ] || die "clipforge wrote no subtitles to $srt"

echo
cat "$srt"
seconds=$(media_seconds "$input")
wall=$(measured_wall "$out/time")
rss=$(measured_rss_mib "$out/time")
cues=$(grep -c -- ' --> ' "$srt")
wer=$(python3 "$ROOT/scripts/wer.py" "$GENERATED/librivox-talk.txt" "$srt" --total)
echo "demo: $(printf '%.1f' "$seconds") s of real speech (5 LibriVox clips) -> $cues subtitle cues in $wall s" \
    "($(awk "BEGIN{printf \"%.1f\", $seconds / $wall}")x realtime, peak RSS $rss MiB), word error rate $wer%"
echo "demo: video $input"
echo "demo: subtitles $srt"
