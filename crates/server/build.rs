//! Lets the server's tests, which run the real worker (and so link the speech engine),
//! find the CTranslate2 library at run time (see crates/asr/build.rs).
fn main() {
    println!("cargo:rerun-if-env-changed=CLIPFORGE_CT2_DIR");
    if let Some(dir) = std::env::var_os("CLIPFORGE_CT2_DIR") {
        let lib = std::path::Path::new(&dir).join("lib");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
