//! Rebuilds a release server when the admin web's built pages (`ui/admin/dist`) change, so the
//! binary embeds the pages built last. Debug builds read the pages from disk and need no rebuild.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        println!("cargo:rerun-if-changed=../ui/admin/dist");
    }
}
