#!/usr/bin/env bash
# Builds test media from real speech into fixtures/generated/ (reused when present).
#
#   scripts/fixtures.sh [all]           everything below except long talks (the default)
#   scripts/fixtures.sh librivox        librivox/*.wav + *.txt + reference.trn (read speech,
#                                       Debian pocketsphinx-testdata, public domain)
#   scripts/fixtures.sh espeak          espeak/*.wav + *.txt (synthetic speech, known text)
#   scripts/fixtures.sh talk --minutes N [--out PATH]
#                                       a 1080p30 H.264/AAC talk of N minutes of real speech
#                                       (default out: fixtures/generated/talk-<N>m.mp4), with
#                                       <out>.txt (reference text) and <out>.tsv (timeline)
#   scripts/fixtures.sh librivox-talk   the five librivox clips as one short talk video
#   scripts/fixtures.sh silence         60 s of silent audio with video
#   scripts/fixtures.sh noaudio         a video without an audio stream
#   scripts/fixtures.sh truncated       a real mp4 cut in half (moov first, and moov last)
#   scripts/fixtures.sh notmedia        a text file named .mp4
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bump when the outputs change shape: older generated files are then rebuilt.
FIXTURES_VERSION=1
WORK=$GENERATED/work
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
FFMPEG=(ffmpeg -nostdin -hide_banner -loglevel error -y)

prepare() {
    if [ -f "$GENERATED/.version" ] && [ "$(cat "$GENERATED/.version")" != "$FIXTURES_VERSION" ]; then
        log "fixtures format changed: rebuilding $GENERATED"
        rm -rf "$GENERATED"
    fi
    mkdir -p "$GENERATED" "$WORK"
    echo "$FIXTURES_VERSION" >"$GENERATED/.version"
    local tool
    for tool in ffmpeg ffprobe sox espeak-ng python3; do
        command -v "$tool" >/dev/null 2>&1 || die "$tool is missing: run scripts/setup.sh"
    done
    [ -f "$LIBRIVOX_SRC/transcription" ] || die "no librivox clips in $LIBRIVOX_SRC: run scripts/setup.sh"
}

# Whether every given file exists and is not empty.
present() {
    local f
    for f in "$@"; do
        [ -s "$f" ] || return 1
    done
}

# A temp path beside `out` with the same extension; renamed onto `out` by `commit`, so
# an interrupted run never leaves a file that looks finished.
tmp_for() {
    local out=$1
    printf '%s.part.%s\n' "${out%.*}" "${out##*.}"
}
commit() { mv -f "$(tmp_for "$1")" "$1"; }

# ---------------------------------------------------------------------------------------
# (a) librivox: real read speech with reference transcripts.

librivox() {
    local dir=$GENERATED/librivox
    local ids
    mapfile -t ids <"$LIBRIVOX_SRC/fileids"
    local id outputs=("$dir/reference.trn")
    for id in "${ids[@]}"; do outputs+=("$dir/$id.wav" "$dir/$id.txt"); done
    if present "${outputs[@]}"; then
        log "librivox: ${#ids[@]} clips present"
        return
    fi
    mkdir -p "$dir"
    # `transcription` lines look like: <s> he was not an ill disposed young man </s> (id)
    local text
    : >"$(tmp_for "$dir/reference.trn")"
    while IFS=$'\t' read -r id text; do
        [ -f "$LIBRIVOX_SRC/$id.wav" ] || die "no audio for $id in $LIBRIVOX_SRC"
        cp "$LIBRIVOX_SRC/$id.wav" "$dir/$id.wav"
        printf '%s\n' "$text" >"$dir/$id.txt"
        printf '%s (%s)\n' "$text" "$id" >>"$(tmp_for "$dir/reference.trn")"
    done < <(sed -E 's|^ *<s> *(.*[^ ]) *</s> *\((.*)\) *$|\2\t\1|' "$LIBRIVOX_SRC/transcription")
    commit "$dir/reference.trn"
    log "librivox: ${#ids[@]} clips in $dir"
}

# ---------------------------------------------------------------------------------------
# (b) espeak-ng: synthetic speech with exactly known text.

ESPEAK_TEXTS=(
    "welcome|Hello, and welcome to this short test of the speech recognizer."
    "clipping|Long videos are turned into short clips with captions that people can read without sound."
    "weather|The weather tomorrow will be sunny in the morning and cloudy in the afternoon."
)

# Synthesises `text` with `voice` into a 16 kHz mono 16-bit WAV at `out`.
speak() {
    local voice=$1 text=$2 out=$3
    espeak-ng -v "$voice" -s 165 -w "$WORK/espeak.wav" "$text"
    sox -q "$WORK/espeak.wav" -r 16000 -c 1 -b 16 "$(tmp_for "$out")"
    commit "$out"
}

espeak() {
    local dir=$GENERATED/espeak entry name text made=0
    mkdir -p "$dir"
    for entry in "${ESPEAK_TEXTS[@]}"; do
        name=${entry%%|*}
        text=${entry#*|}
        present "$dir/$name.wav" "$dir/$name.txt" && continue
        speak en-us "$text" "$dir/$name.wav"
        printf '%s\n' "$text" >"$dir/$name.txt"
        made=$((made + 1))
    done
    log "espeak: ${#ESPEAK_TEXTS[@]} clips in $dir ($made made now)"
}

# ---------------------------------------------------------------------------------------
# (c) talks: real speech over a moving picture.

# Sentences spoken between rounds of the librivox clips so a long talk does not repeat one
# fixed pattern (the clips are 25 s of speech in all).
TALK_SENTENCES=(
    "Today I want to talk about how long recordings become short clips."
    "The first step is to find out exactly when every word was spoken."
    "Then we look for moments that make sense on their own, without the rest of the talk."
    "A good clip starts with a strong sentence and ends when the thought is complete."
    "Captions matter, because most people watch short videos with the sound turned off."
    "Vertical video needs the speaker in the middle of the frame at all times."
    "Silence at the start of a clip makes viewers scroll away, so we cut it."
    "Finally, every clip is rendered again at full quality before it is delivered."
)

# Speech pieces a talk is made of: each librivox clip at three speaking rates, and the
# talk sentences in two English voices. Writes the manifest talk_plan.py reads.
talk_pieces() {
    local manifest=$WORK/pieces.tsv
    [ -s "$manifest" ] && return
    librivox
    local pieces=$WORK/pieces id tempo out i voice
    mkdir -p "$pieces"
    : >"$manifest.tmp"
    while IFS= read -r id; do
        for tempo in 1.0 0.92 1.08; do
            out=$pieces/$id-$tempo.wav
            if ! present "$out"; then
                sox -q "$GENERATED/librivox/$id.wav" -r 16000 -c 1 -b 16 "$(tmp_for "$out")" tempo -s "$tempo"
                commit "$out"
            fi
            printf 'librivox\t%s\t%s\t%s\n' "$id" "$out" "$(cat "$GENERATED/librivox/$id.txt")" >>"$manifest.tmp"
        done
    done <"$LIBRIVOX_SRC/fileids"
    for i in "${!TALK_SENTENCES[@]}"; do
        voice=$([ $((i % 2)) -eq 0 ] && echo en-us || echo en-gb)
        out=$pieces/sentence-$i.wav
        present "$out" || speak "$voice" "${TALK_SENTENCES[$i]}" "$out"
        printf 'espeak\tsentence-%s\t%s\t%s\n' "$i" "$out" "${TALK_SENTENCES[$i]}" >>"$manifest.tmp"
    done
    mv "$manifest.tmp" "$manifest"
}

# One minute of 1080p30 H.264 picture (a moving square, a title and a clock) that every
# talk loops by stream copy: a 60-minute talk then costs an audio encode, not a video one.
loop_video() {
    local out=$WORK/loop-1080p30.mp4
    present "$out" && return
    log "encoding the one-minute picture loop (about 15 s)"
    local filter="[0][1]overlay=x='mod(t*200,1760)':y='460+200*sin(t)'"
    if [ -f "$FONT" ]; then
        filter+=",drawtext=fontfile=$FONT:text='clipforge test talk':x=80:y=80:fontsize=64:fontcolor=white"
        filter+=",drawtext=fontfile=$FONT:text='%{pts\\:hms}':x=80:y=180:fontsize=48:fontcolor=0xd0d8e0"
    fi
    "${FFMPEG[@]}" \
        -f lavfi -i "color=c=0x1d2733:s=1920x1080:r=30:d=60" \
        -f lavfi -i "color=c=0xf2a900:s=160x160:r=30:d=60" \
        -filter_complex "$filter" \
        -c:v libx264 -preset veryfast -crf 23 -g 60 -pix_fmt yuv420p -profile:v high \
        -movflags +faststart "$(tmp_for "$out")"
    commit "$out"
}

# Muxes the looped picture with the concatenated speech into `out` (`seconds` long).
mux_talk() {
    local list=$1 seconds=$2 out=$3
    "${FFMPEG[@]}" \
        -stream_loop -1 -i "$WORK/loop-1080p30.mp4" \
        -f concat -safe 0 -i "$list" \
        -map 0:v:0 -map 1:a:0 -t "$seconds" \
        -c:v copy -c:a aac -b:a 128k -ar 48000 -ac 2 \
        -movflags +faststart "$(tmp_for "$out")"
    commit "$out"
}

# Plans and builds one talk; `plan_args` go to talk_plan.py.
build_talk() {
    local out=$1
    shift
    local base=${out%.mp4}
    if present "$out" "$base.txt" "$base.tsv"; then
        log "talk: $out present ($(media_seconds "$out") s)"
        return
    fi
    mkdir -p "$(dirname "$out")"
    talk_pieces
    loop_video
    local started=$SECONDS name summary
    name=$(basename "$base")
    summary=$(python3 "$ROOT/scripts/talk_plan.py" --manifest "$WORK/pieces.tsv" --work "$WORK" \
        --list "$WORK/$name.concat" --reference "$base.txt.part" --timeline "$base.tsv.part" \
        --pad-name "$name-pad" "$@")
    local seconds=${summary% *} speech=${summary#* }
    mux_talk "$WORK/$name.concat" "$seconds" "$out"
    mv "$base.txt.part" "$base.txt"
    mv "$base.tsv.part" "$base.tsv"
    log "talk: $out, $seconds s ($speech s of speech), built in $((SECONDS - started)) s"
}

talk() {
    local minutes="" out=""
    while [ $# -gt 0 ]; do
        case $1 in
        --minutes | --out)
            [ $# -ge 2 ] || die "talk: $1 needs a value"
            if [ "$1" = --minutes ]; then minutes=$2; else out=$2; fi
            shift 2
            ;;
        *) die "talk: unknown argument $1 (usage: talk --minutes N [--out PATH])" ;;
        esac
    done
    [[ $minutes =~ ^[0-9]+([.][0-9]+)?$ ]] && [ "$(awk "BEGIN{print ($minutes > 0)}")" = 1 ] ||
        die "talk: --minutes must be a positive number"
    [ -n "$out" ] || out=$GENERATED/talk-${minutes}m.mp4
    [[ $out == *.mp4 ]] || die "talk: --out must end in .mp4"
    build_talk "$out" --seconds "$(awk "BEGIN{print $minutes * 60}")"
}

librivox_talk() {
    build_talk "$GENERATED/librivox-talk.mp4" --once
}

# ---------------------------------------------------------------------------------------
# Edge cases.

silence() {
    local out=$GENERATED/silence.mp4
    present "$out" || {
        loop_video
        "${FFMPEG[@]}" -i "$WORK/loop-1080p30.mp4" -f lavfi -i "anullsrc=r=48000:cl=stereo" \
            -map 0:v:0 -map 1:a:0 -t 60 -c:v copy -c:a aac -b:a 96k -movflags +faststart "$(tmp_for "$out")"
        commit "$out"
    }
    log "silence: $out"
}

noaudio() {
    local out=$GENERATED/noaudio.mp4
    present "$out" || {
        loop_video
        "${FFMPEG[@]}" -i "$WORK/loop-1080p30.mp4" -map 0:v:0 -t 10 -c copy -movflags +faststart "$(tmp_for "$out")"
        commit "$out"
    }
    log "noaudio: $out"
}

# Half of a real talk: with the index (moov) first, probing works and decoding fails part
# way; with the index last, nothing can be read at all.
truncated() {
    local out=$GENERATED/truncated.mp4 nomoov=$GENERATED/truncated-nomoov.mp4
    if ! present "$out" "$nomoov"; then
        librivox_talk
        local src=$GENERATED/librivox-talk.mp4 size
        size=$(stat -c %s "$src")
        head -c $((size / 2)) "$src" >"$(tmp_for "$out")"
        commit "$out"
        "${FFMPEG[@]}" -i "$src" -c copy "$WORK/moov-last.mp4"
        size=$(stat -c %s "$WORK/moov-last.mp4")
        head -c $((size / 2)) "$WORK/moov-last.mp4" >"$(tmp_for "$nomoov")"
        commit "$nomoov"
        rm -f "$WORK/moov-last.mp4"
    fi
    log "truncated: $out, $nomoov"
}

notmedia() {
    local out=$GENERATED/notmedia.mp4
    present "$out" || {
        printf 'This is a text file, not a video.\nclipforge must refuse it with a clear error.\n' >"$(tmp_for "$out")"
        commit "$out"
    }
    log "notmedia: $out"
}

all() {
    librivox
    espeak
    librivox_talk
    silence
    noaudio
    truncated
    notmedia
}

main() {
    local cmd=${1:-all}
    [ $# -gt 0 ] && shift
    case $cmd in
    -h | --help | help)
        usage
        return
        ;;
    esac
    prepare
    local started=$SECONDS
    case $cmd in
    all | librivox | espeak | silence | noaudio | truncated | notmedia)
        [ $# -eq 0 ] || die "$cmd takes no arguments"
        "$cmd"
        ;;
    librivox-talk) librivox_talk ;;
    talk) talk "$@" ;;
    *) die "unknown command $cmd (see --help)" ;;
    esac
    log "done in $((SECONDS - started)) s"
}

main "$@"
