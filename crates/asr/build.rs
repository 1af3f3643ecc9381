//! Points the linker at the CTranslate2 library unpacked by scripts/setup.sh.
fn main() {
    println!("cargo:rerun-if-env-changed=CLIPFORGE_CT2_DIR");
    if std::env::var_os("CARGO_FEATURE_CT2_WHEEL").is_none() {
        return;
    }
    let Some(dir) = std::env::var_os("CLIPFORGE_CT2_DIR").map(std::path::PathBuf::from) else {
        panic!("CLIPFORGE_CT2_DIR is not set: build from the repository (its .cargo/config.toml sets it) or point it at an unpacked ctranslate2 wheel");
    };
    let lib = dir.join("lib");
    if !lib.join("libctranslate2.so").exists() {
        panic!(
            "CTranslate2 is not installed in {}: run scripts/setup.sh (it unpacks the PyPI ctranslate2 wheel there)",
            lib.display()
        );
    }
    println!("cargo:rerun-if-changed={}", lib.display());
    println!("cargo:rustc-link-search=native={}", lib.display());
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
}
