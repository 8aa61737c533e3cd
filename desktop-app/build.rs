//! Builds the Tauri context. A checkout without the built page (`ui/pos/dist`) still compiles:
//! a placeholder page says how to build the real one (`./scripts/test.sh` and the README's
//! commands always build it first).

use std::path::Path;

fn main() {
    let dist = Path::new("../ui/pos/dist");
    let index = dist.join("index.html");
    if !index.exists() {
        std::fs::create_dir_all(dist).expect("creating ui/pos/dist");
        std::fs::write(
            &index,
            "<!doctype html><meta charset=utf-8><title>Lapak POS</title>\
             <p>The POS page is not built. Run <code>cd ui &amp;&amp; npm ci &amp;&amp; npm run build</code>, \
             then build this app again.</p>",
        )
        .expect("writing the placeholder page");
    }
    println!("cargo:rerun-if-changed=../ui/pos/dist/index.html");
    tauri_build::build();
}
