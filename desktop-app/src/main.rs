//! `lapak-desktop`: the POS window. `--data-dir <path>` (or `LAPAK_POS_DIR`) picks where the
//! terminal keeps its store; two terminals on one machine need two directories.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use anyhow::Context as _;
use lapak_desktop::{Pos, app, pos_commands};
use tauri::Manager;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    lapak_client::identify_app(concat!("lapak-pos/", env!("CARGO_PKG_VERSION")));
    tauri::Builder::default()
        .setup(|tauri_app| {
            let dir = match app::data_dir_from_args() {
                Some(d) => d,
                None => tauri_app.path().app_data_dir()?,
            };
            let pos = tauri::async_runtime::block_on(Pos::open(&dir, true))?;
            tauri_app.manage(pos);
            app::forward_events(tauri_app.handle())?;
            app::lean_webview(tauri_app.handle())?;
            Ok(())
        })
        .invoke_handler(pos_commands!())
        .run(tauri::generate_context!())
        .context("the POS window failed")
}
