//! Photos against a server that predates `POST /v1/photos/upload-states`: the client asks
//! about each photo on its own instead, and every photo still reaches the server once and
//! its readers intact. Before the fallback, such a server's 405 (or 404) failed every sync
//! with photos waiting, so no photo ever left the phone.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use axum::response::IntoResponse as _;
use common::{Catalog, Env};
use lapak_core::{Value, item, record};
use lapak_server::demo::DemoSize;

/// The salesperson, their territory and the branch's supervisor of the small demo below.
const SALES: &str = "s-jkt01001";
const TERRITORY: &str = "T-JKT01-001";
const SUPERVISOR: &str = "sup-jkt01";
const OUTLET: &str = "OUT-000001";

/// How the older server answers the question it does not know.
#[derive(Clone, Copy)]
enum Older {
    /// `/v1/photos/{hex}` matches the path, not the method: axum's bare 405.
    MethodNotAllowed,
    /// A server whose fallback answers every unknown path with its JSON 404.
    NotFound,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn photos_upload_one_by_one_when_the_server_answers_405() {
    photos_reach_an_older_server(Older::MethodNotAllowed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn photos_upload_one_by_one_when_the_server_answers_404() {
    photos_reach_an_older_server(Older::NotFound).await;
}

fn jpeg(n: usize, seed: u8) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend((0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    b
}

/// Restarts `env`'s server behind a layer that answers the batch question as `older` would;
/// the count is how many times it was asked.
async fn pretend_older(env: &mut Env, older: Older) -> Arc<AtomicUsize> {
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    env.wrap_router(Arc::new(move |router: axum::Router| {
        let counter = counter.clone();
        router.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let counter = counter.clone();
                async move {
                    if req.uri().path() != "/v1/photos/upload-states" {
                        return next.run(req).await;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    match older {
                        Older::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED.into_response(),
                        Older::NotFound => (
                            StatusCode::NOT_FOUND,
                            axum::Json(serde_json::json!({
                                "code": "not_found", "message": "no such endpoint"
                            })),
                        )
                            .into_response(),
                    }
                }
            },
        ))
    }))
    .await;
    asked
}

async fn photos_reach_an_older_server(older: Older) {
    let mut env = Env::sqlite_with(Catalog::Business).await;
    env.seed(&DemoSize {
        seed: 11,
        branches: 2,
        terminals: 2,
        salespeople: 4,
        outlets: 12,
        items: 2,
        vouchers: 1,
        stocked_items: 1,
    })
    .await;
    let asked = pretend_older(&mut env, older).await;
    let sales = env.client("phone", SALES).await;
    sales.sync_once().await.unwrap();

    let shots = [jpeg(300_000, 1), jpeg(200_000, 2)];
    let mut refs = Vec::new();
    for bytes in &shots {
        refs.push(sales.add_photo(bytes.clone()).await.unwrap());
    }
    let photos = refs
        .iter()
        .map(|r| item! {"ref" => r.as_str(), "caption" => "shelf"})
        .collect();
    sales
        .create_with_id(
            "outlet_profiles",
            OUTLET,
            record! {"outlet" => OUTLET, "territory" => TERRITORY,
            "photos" => Value::List(photos)},
        )
        .await
        .unwrap();
    let report = sales.sync_once().await.unwrap();
    assert_eq!(report.rejected, 0, "{report:?}");
    assert_eq!(report.photos_uploaded, 2, "{report:?}");
    assert!(
        asked.load(Ordering::SeqCst) >= 1,
        "the client asked the batch question first"
    );
    assert!(sales.photos().pending().unwrap().is_empty());
    // Nothing is sent twice.
    assert_eq!(sales.sync_once().await.unwrap().photos_uploaded, 0);

    // The supervisor's tablet gets the very bytes from the server.
    let sup = env.client("tablet", SUPERVISOR).await;
    sup.sync_once().await.unwrap();
    for (reference, bytes) in refs.iter().zip(&shots) {
        let got = sup.photo(reference).await.unwrap();
        assert_eq!(got.as_deref(), Some(bytes.as_slice()), "{reference}");
    }
}
