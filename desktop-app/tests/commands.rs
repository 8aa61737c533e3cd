//! The Tauri commands through Tauri's mock runtime (no window): requests go through the real
//! IPC path (`tauri://localhost`), typed as the page sends them, and answers come back as the
//! page reads them, errors with their code.

use lapak_desktop::{Pos, pos_commands};
use serde_json::{Value, json};
use tauri::Manager;
use tauri::test::{INVOKE_KEY, get_ipc_response, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;

fn app(dir: &std::path::Path) -> tauri::WebviewWindow<tauri::test::MockRuntime> {
    let app = mock_builder()
        .invoke_handler(pos_commands!())
        .build(mock_context(noop_assets()))
        .expect("the mock app builds");
    let pos = tauri::async_runtime::block_on(Pos::open(dir, false)).expect("the terminal opens");
    app.manage(pos);
    tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the mock window builds")
}

fn call(
    window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    cmd: &str,
    request: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: cmd.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: json!({ "request": request }).into(),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|b| b.deserialize::<Value>().unwrap())
}

#[test]
fn a_new_terminal_asks_for_sign_in_and_refuses_to_sell_with_a_code() {
    let dir = tempfile::tempdir().unwrap();
    let w = app(dir.path());
    let state = call(&w, "app_state", json!({})).unwrap();
    assert_eq!(state["phase"], "sign_in");
    assert_eq!(state["locale"], "id");
    let err = call(&w, "cart", json!({"intent": "scan", "code": "8990001"})).unwrap_err();
    assert_eq!(err["code"], "not_signed_in", "{err}");
    // Said in the terminal's language: Indonesian by default.
    assert_eq!(err["message"], "masuk dulu", "{err}");
    let err = call(
        &w,
        "sign_in",
        json!({"server": "not a url", "username": "c", "password": "p"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "invalid", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("http://"),
        "{err}"
    );
    // A server that is not there: unreachable, said plainly.
    let err = call(
        &w,
        "sign_in",
        json!({"server": "http://127.0.0.1:9", "username": "c", "password": "p"}),
    )
    .unwrap_err();
    assert_eq!(err["code"], "unreachable", "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("server tidak terjangkau"),
        "{err}"
    );
    let state = call(&w, "set_locale", json!({"locale": "en"})).unwrap();
    assert_eq!(state["locale"], "en");
    let err = call(&w, "cart", json!({"intent": "scan", "code": "8990001"})).unwrap_err();
    assert_eq!(err["message"], "sign in first", "{err}");
    // A malformed request is refused by the boundary, not by the logic.
    assert!(call(&w, "cart", json!({"intent": "fly"})).is_err());
}
