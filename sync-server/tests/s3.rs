//! Photos in S3-compatible object storage, against a real S3 API: moto's server mode (from
//! PyPI; `scripts/test.sh` installs it in `target/pyvenv` and names it in `LAPAK_MOTO_SERVER`).
//! moto was picked over s3rver because it is maintained, speaks SigV4 as AWS does, and lives
//! in the Python environment the bindings' tests already install.
//!
//! The same checks as the file store's: stored once, fetched, listed, deleted, and a server
//! configured with the bucket takes a resumed upload into it. Without moto the test fails under
//! CI and says how to get it elsewhere.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Bytes;
use lapak_core::photo::hex_digest;
use lapak_server::config::{PhotoStoreConfig, S3Config, Secret};
use lapak_server::photos::BlobStore as _;
use lapak_server::photos::s3::S3Blobs;

struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts moto on a free port with a bucket `photos`; `None` (outside CI) when moto is absent.
async fn moto() -> Option<Moto> {
    let Ok(binary) = std::env::var("LAPAK_MOTO_SERVER") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "LAPAK_MOTO_SERVER is not set: scripts/test.sh installs moto and sets it"
        );
        eprintln!("skipped: set LAPAK_MOTO_SERVER to moto_server (pip install 'moto[server]')");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    for _ in 0..200 {
        // moto takes any credentials; a bucket is made with a plain PUT.
        if let Ok(r) = http.put(format!("{}/photos", moto.endpoint)).send().await
            && r.status().is_success()
        {
            return Some(moto);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto did not start on {}", moto.endpoint);
}

fn config(endpoint: &str) -> S3Config {
    S3Config {
        bucket: "photos".into(),
        prefix: "lapak/test".into(),
        endpoint: Some(endpoint.to_owned()),
        region: Some("us-east-1".into()),
        credentials: Some(("testing".into(), Secret("testing".into()))),
    }
}

#[tokio::test]
async fn the_s3_store_keeps_lists_and_deletes_photos() {
    let Some(moto) = moto().await else { return };
    let blobs = S3Blobs::open(&config(&moto.endpoint)).unwrap();
    let bytes = Bytes::from_static(b"\xFF\xD8\xFF\xE0 a photo");
    let hex = hex_digest(&bytes);
    assert!(!blobs.exists(&hex).await.unwrap());
    assert!(blobs.get(&hex).await.unwrap().is_none());
    blobs.put(&hex, bytes.clone()).await.unwrap();
    blobs.put(&hex, bytes.clone()).await.unwrap();
    assert!(blobs.exists(&hex).await.unwrap());
    assert_eq!(blobs.get(&hex).await.unwrap().unwrap(), bytes);
    let listed = blobs.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].hex.as_str(), listed[0].size),
        (hex.as_str(), bytes.len() as u64)
    );
    blobs.delete(&hex).await.unwrap();
    blobs.delete(&hex).await.unwrap();
    assert!(blobs.list().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_s3_stores_an_uploaded_photo_in_the_bucket() {
    let Some(moto) = moto().await else { return };
    let s3 = config(&moto.endpoint);
    let harness = common::business_sqlite().await;
    common::reference(
        harness.storage.as_ref(),
        "territories",
        &[("T-1", serde_json::json!({"name": "T1", "branch": "B-1"}))],
    )
    .await;
    let server =
        common::TestServer::start_with(harness, |c| c.photos = PhotoStoreConfig::S3(s3.clone()))
            .await;
    server
        .user(
            "sales",
            lapak_server::auth::Role::Salesperson,
            &[("territory:T-1", true)],
        )
        .await;
    let photo: Vec<u8> = [b"\xFF\xD8\xFF\xE0".as_slice(), &[7u8; 100_000]].concat();
    let hex = hex_digest(&photo);
    let dir = tempfile::tempdir().unwrap();
    let mut phone = common::business_device(dir.path(), "phone", &["territory:T-1"]);
    let tokens = server.login("sales", phone.device_id()).await;
    let item = [
        ("ref", lapak_core::Scalar::Text(format!("sha256:{hex}"))),
        ("taken_at", lapak_core::Scalar::Int(1)),
        ("caption", lapak_core::Scalar::Text(String::new())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    phone
        .append(
            "activities",
            lapak_core::record! {"salesperson" => "sales", "territory" => "T-1", "kind" => "branch",
            "at" => 1_i64, "photos" => lapak_core::Value::List(vec![item])},
        )
        .unwrap();
    server.sync(&tokens.access, &mut phone).await;
    for (offset, part) in [(0, &photo[..50_000]), (50_000, &photo[50_000..])] {
        let resp = server
            .http
            .patch(format!("{}/v1/photos/{hex}/upload", server.base))
            .bearer_auth(&tokens.access)
            .header("upload-offset", offset.to_string())
            .header("upload-length", photo.len().to_string())
            .body(part.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let in_bucket = S3Blobs::open(&s3).unwrap();
    assert_eq!(in_bucket.get(&hex).await.unwrap().unwrap().to_vec(), photo);
    let back = server
        .http
        .get(format!("{}/v1/photos/{hex}", server.base))
        .bearer_auth(&tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(back.bytes().await.unwrap().to_vec(), photo);
}
