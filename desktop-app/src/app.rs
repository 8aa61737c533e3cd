//! The window: where the terminal's data lives, the Tauri builder with the commands, and the
//! events the page listens to (`lapak://status` when the sync badge changes, `lapak://changed`
//! when another device's changes arrived).

use std::path::PathBuf;

use lapak_core::Origin;
use tauri::{Emitter, Manager, Runtime};

use crate::Pos;
use crate::api::ChangedEvent;
use crate::pos::status::badge;

/// The terminal's data directory: `--data-dir <path>`, else `LAPAK_POS_DIR`, else the OS
/// app-data directory (`~/.local/share/id.lapak.pos` on Linux).
#[must_use]
pub fn data_dir_from_args() -> Option<PathBuf> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--data-dir" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--data-dir=") {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("LAPAK_POS_DIR").map(PathBuf::from)
}

/// Tells WebKitGTK the page is a single-document app: no memory cache of other pages, no
/// back-forward page cache (the POS never navigates), which keeps its web process smaller over
/// a long day.
///
/// # Errors
/// When the window's web view cannot be reached.
pub fn lean_webview<R: Runtime>(app: &tauri::AppHandle<R>) -> tauri::Result<()> {
    let Some(window) = app.get_webview_window("main") else {
        return Ok(());
    };
    window.with_webview(|webview| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::{CacheModel, WebContextExt as _, WebViewExt as _};
            if let Some(context) = webview.inner().context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = webview;
    })
}

/// Forwards status changes and remote changes to the page as events.
///
/// # Errors
/// When the store cannot be subscribed to.
pub fn forward_events<R: Runtime>(app: &tauri::AppHandle<R>) -> lapak_client::Result<()> {
    let pos = app.state::<Pos>();
    let mut status = pos.client().status();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            let b = badge(&status.borrow_and_update());
            let _ = handle.emit("lapak://status", b);
            if status.changed().await.is_err() {
                break;
            }
        }
    });
    let changes = tauri::async_runtime::block_on(pos.client().with_store(|s| Ok(s.subscribe())))?;
    let handle = app.clone();
    std::thread::spawn(move || {
        for set in changes {
            if set.origin == Origin::Remote {
                let _ = handle.emit(
                    "lapak://changed",
                    ChangedEvent {
                        collections: vec![set.collection],
                    },
                );
            }
        }
    });
    Ok(())
}
