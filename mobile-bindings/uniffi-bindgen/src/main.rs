//! `uniffi-bindgen`: generates the Kotlin, Swift and Python bindings of `lapak-mobile` from its
//! built library (`scripts/bindings.sh`). Same uniffi version as the library, or the bindings
//! fail when loaded.

fn main() {
    uniffi::uniffi_bindgen_main();
}
