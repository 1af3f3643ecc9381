#!/usr/bin/env bash
# Word error rate of clipforge and of faster-whisper on the same clips with the same model:
# the librivox clips of pocketsphinx-testdata (real read speech) and the espeak-ng clips.
#
#   scripts/wer-eval.sh [--model DIR] [--threads N]
#
# clipforge runs `clipforge transcribe CLIP --format json` per clip; faster-whisper runs
# scripts/fw_transcribe.py (batched and sequential pipelines, int8, word timestamps).
# Scores come from scripts/wer.py (with sclite as a cross-check when installed); the
# transcripts stay under fixtures/generated/wer-eval/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

model=$MODELS_DIR/tiny.en
threads=2
while [ $# -gt 0 ]; do
    case $1 in
    --model | --threads)
        [ $# -ge 2 ] || die "$1 needs a value"
        if [ "$1" = --model ]; then model=$2; else threads=$2; fi
        shift 2
        ;;
    -h | --help) usage && exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
    esac
done

"$ROOT/scripts/setup.sh" --build
ensure_faster_whisper
require_binary
model_complete "$model" || die "$model is not a complete model folder"
"$ROOT/scripts/fixtures.sh" librivox
"$ROOT/scripts/fixtures.sh" espeak

out=$GENERATED/wer-eval/$(basename "$model")
status=0
summary=()
for set in librivox espeak; do
    clips=("$GENERATED/$set"/*.wav)
    rm -rf "${out:?}/$set"
    mkdir -p "$out/$set/clipforge"
    log "$set: clipforge on ${#clips[@]} clips"
    for clip in "${clips[@]}"; do
        name=$(basename "$clip" .wav)
        if ! "$CLIPFORGE_BIN" transcribe "$clip" --format json --threads "$threads" --model "$model" \
            -o "$out/$set/clipforge/$name.json" 2>"$out/$set/clipforge/$name.log"; then
            log "clipforge failed on $clip: $(tail -n 1 "$out/$set/clipforge/$name.log")"
        fi
    done
    for pipeline in batched sequential; do
        log "$set: faster-whisper $pipeline on ${#clips[@]} clips"
        "$FW_PYTHON" "$ROOT/scripts/fw_transcribe.py" --model "$model" --threads "$threads" \
            --pipeline "$pipeline" --out-dir "$out/$set/fw-$pipeline" "${clips[@]}" >/dev/null
    done
    line="$set:"
    for engine in clipforge fw-batched fw-sequential; do
        echo
        echo "== $set, $engine"
        python3 "$ROOT/scripts/wer.py" "$GENERATED/$set" "$out/$set/$engine" --sclite --label "$engine" |
            tee "$out/$set/$engine.wer.txt" || status=1
        line+=" $engine $(python3 "$ROOT/scripts/wer.py" "$GENERATED/$set" "$out/$set/$engine" --total || true)%,"
    done
    summary+=("${line%,}")
done
echo
for line in "${summary[@]}"; do
    echo "wer $line (model $(basename "$model"))"
done
exit "$status"
