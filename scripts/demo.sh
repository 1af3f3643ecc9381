#!/usr/bin/env bash
# The main job on a sample made from real speech: installs what is missing, builds
# clipforge, makes a 3-minute 1080p talk from the librivox read-speech clips and runs
# `clipforge clip` on it: transcription with the local Whisper model, the best moments,
# and three rendered vertical clips with captions. Prints the clips and the word error
# rate of the transcript against the reference text.
#
#   scripts/demo.sh [--clips N] [--quality draft|standard|high] [--model DIR] [--threads N]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

extra=()
clips=3
while [ $# -gt 0 ]; do
    case $1 in
    --model | --threads | --quality)
        [ $# -ge 2 ] || die "$1 needs a value"
        extra+=("$1" "$2")
        shift 2
        ;;
    --clips)
        [ $# -ge 2 ] || die "$1 needs a value"
        clips=$2
        shift 2
        ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

"$ROOT/scripts/setup.sh" --build
require_binary
"$ROOT/scripts/fixtures.sh" talk --minutes 3

input=$GENERATED/talk-3m.mp4
out=$GENERATED/demo/talk-3m-clips
rm -rf "$out"
mkdir -p "$out"

log "clipforge clip $input"
if ! measure "$GENERATED/demo/time" "$CLIPFORGE_BIN" clip "$input" -o "$out" --clips "$clips" "${extra[@]}"; then
    die "clipforge clip failed"
fi
[ -s "$out/clips.json" ] || die "clipforge wrote no clips.json to $out"

echo
python3 - "$out/clips.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
for c in report["clips"]:
    print(f'{c["file"]}  {c["start"]:7.1f}-{c["end"]:6.1f} s  score {c["score"]:4.0f}  {c["framing"]:<6}  "{c["title"]}"')
    print(f'           {c["reason"]}')
EOF
seconds=$(media_seconds "$input")
wall=$(measured_wall "$GENERATED/demo/time")
rss=$(measured_rss_mib "$GENERATED/demo/time")
wer=$(python3 "$ROOT/scripts/wer.py" "$GENERATED/talk-3m.txt" "$out/transcript.srt" --total)
echo
echo "demo: $(printf '%.0f' "$seconds") s talk of real speech -> $(ls "$out"/clip-*.mp4 | wc -l) clips in $wall s" \
    "(peak RSS $rss MiB); transcript word error rate $wer%"
echo "demo: clips, thumbnails, clips.json, transcript.json/.srt in $out"
