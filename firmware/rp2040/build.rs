//! Puts memory.x where cortex-m-rt's `link.x` looks for it, and links the firmware with it.
//! Only the binary is linked this way: the library's host tests link as ordinary programs.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::copy("memory.x", out.join("memory.x")).expect("memory.x beside Cargo.toml");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    // Only when building for the device: `cargo test --lib` on the host links no binary, but
    // the flags must not leak into anything the host links either.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("none") {
        // --nmagic: sections need not be page-aligned in the file (flash has no pages to map),
        // which keeps the linker from padding between BOOT2 and FLASH.
        println!("cargo:rustc-link-arg-bins=--nmagic");
        println!("cargo:rustc-link-arg-bins=-Tlink.x");
    }
}
