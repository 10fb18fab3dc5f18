//! Links the `clv` binary as a position-dependent executable on Linux with glibc. A
//! position-independent one (the default) has the dynamic loader apply about 130,000 relocations
//! at every start, writing to 2.4 MB of its pages (Polars' tables of functions, mostly): 3 of the
//! 4.4 ms `clv --version` took here, and a tenth of a whole `clv fit` on 100,000 customers. The
//! cost is that the binary itself loads at a fixed address (its libraries, stack and heap are
//! still placed at random). The library, the tests and the Python extension are built as before.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
