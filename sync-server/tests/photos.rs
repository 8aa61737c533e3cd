//! Photos over HTTP, on SQLite and Postgres: an upload is taken only after a record of the
//! uploader's write scopes references the photo, resumes from the offset the server holds, is
//! checked against its name and type and size, and stored once; a photo is given only to a
//! reader of a referencing record's scopes (another territory's salesperson gets the answer of
//! a photo that does not exist); the admin API lists and fetches a record's photos; photos no
//! record references any more are collected.

mod common;

use common::{Harness, TestServer, business_device, reference};
use lapak_core::photo::{MAX_PHOTO_BYTES, hex_digest};
use lapak_core::{Edit, Record, Scalar, Store, Value};
use lapak_server::auth::Role;
use serde_json::json;
use uuid::Uuid;

crate::on_both_backends!(
    business_sqlite, business_postgres;
    an_upload_resumes_and_the_photo_reaches_only_its_readers,
    bad_uploads_are_refused_with_what_to_do,
    photos_no_record_references_are_collected,
    many_uploads_are_asked_about_in_one_request,
);

fn jpeg(n: usize, seed: u8) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0];
    b.extend((0..n).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    b
}

fn reference_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex_digest(bytes))
}

async fn setup(h: Harness) -> TestServer {
    let s = h.storage.clone();
    reference(s.as_ref(), "territories", &[
        ("T-1", json!({"name": "T1", "branch": "B-1", "lat": -6.2, "lng": 106.8, "radius_m": 10000})),
        ("T-2", json!({"name": "T2", "branch": "B-1", "lat": -6.3, "lng": 106.9, "radius_m": 10000})),
    ])
    .await;
    reference(
        s.as_ref(),
        "customers",
        &[(
            "OUT-1",
            json!({"name": "Toko Satu", "branch": "B-1", "territory": "T-1"}),
        )],
    )
    .await;
    let server = TestServer::start(h).await;
    server
        .user(
            "sales",
            Role::Salesperson,
            &[("territory:T-1", true), ("org", false)],
        )
        .await;
    server
        .user(
            "other",
            Role::Salesperson,
            &[("territory:T-2", true), ("org", false)],
        )
        .await;
    server.user("boss", Role::Admin, &[("*", true)]).await;
    server
}

/// An activity of `sales` in T-1 holding `refs` as photos.
fn activity(store: &mut Store, refs: &[&str]) {
    let photos = refs
        .iter()
        .map(|r| {
            [
                ("ref", Scalar::Text((*r).to_owned())),
                ("taken_at", Scalar::Int(1)),
                ("caption", Scalar::Text(String::new())),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
        })
        .collect();
    let mut r = Record::new();
    for (k, v) in [
        ("salesperson", "sales"),
        ("territory", "T-1"),
        ("kind", "branch"),
    ] {
        r.insert(k.into(), Value::Text(v.into()));
    }
    r.insert("at".into(), Value::Int(1_700_000_000_000));
    r.insert("photos".into(), Value::List(photos));
    store.append("activities", r).unwrap();
}

struct Answer {
    status: u16,
    body: serde_json::Value,
}

async fn patch(
    server: &TestServer,
    token: &str,
    hex: &str,
    offset: u64,
    length: u64,
    bytes: Vec<u8>,
) -> Answer {
    let resp = server
        .http
        .patch(format!("{}/v1/photos/{hex}/upload", server.base))
        .bearer_auth(token)
        .header("upload-offset", offset.to_string())
        .header("upload-length", length.to_string())
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    Answer {
        status,
        body: resp.json().await.unwrap_or_default(),
    }
}

async fn get(server: &TestServer, token: &str, path: &str) -> (u16, Vec<u8>, String) {
    let resp = server
        .http
        .get(format!("{}{path}", server.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, resp.bytes().await.unwrap().to_vec(), kind)
}

fn code(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    v["error"]["code"].as_str().unwrap_or("").to_owned()
}

async fn an_upload_resumes_and_the_photo_reaches_only_its_readers(h: Harness) {
    let server = setup(h).await;
    let dir = tempfile::tempdir().unwrap();
    let mut phone = business_device(dir.path(), "phone", &["territory:T-1", "org"]);
    let sales = server.login("sales", phone.device_id()).await;
    let other = server.login("other", Uuid::now_v7()).await;
    let photo = jpeg(300_000, 1);
    let (hex, len) = (hex_digest(&photo), photo.len() as u64);

    // Before its record: nobody references it, so it is not taken.
    let early = patch(&server, &sales.access, &hex, 0, len, photo.clone()).await;
    assert_eq!(refusal(&early), (404, Some("photo_not_referenced")));

    activity(&mut phone, &[&reference_of(&photo)]);
    server.sync(&sales.access, &mut phone).await;

    let (status, body, _) = get(&server, &sales.access, &format!("/v1/photos/{hex}/upload")).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        json!({"stored": false, "offset": 0})
    );
    // Half, then a stale offset (refused, naming the held one), then the rest.
    let half = patch(
        &server,
        &sales.access,
        &hex,
        0,
        len,
        photo[..150_000].to_vec(),
    )
    .await;
    assert_eq!(
        (half.status, half.body.clone()),
        (200, json!({"stored": false, "offset": 150_000}))
    );
    let stale = patch(&server, &sales.access, &hex, 0, len, photo.clone()).await;
    assert_eq!(refusal(&stale), (409, Some("offset_mismatch")));
    let rest = patch(
        &server,
        &sales.access,
        &hex,
        150_000,
        len,
        photo[150_000..].to_vec(),
    )
    .await;
    assert_eq!(
        (rest.status, rest.body["stored"].as_bool()),
        (200, Some(true))
    );
    // Again: already stored, nothing more is written.
    let again = patch(&server, &sales.access, &hex, 0, len, photo.clone()).await;
    assert_eq!(
        (again.status, again.body["stored"].as_bool()),
        (200, Some(true))
    );

    let (status, bytes, kind) = get(&server, &sales.access, &format!("/v1/photos/{hex}")).await;
    assert_eq!((status, kind.as_str()), (200, "image/jpeg"));
    assert_eq!(bytes, photo);

    // Another territory: the same answer as a photo that does not exist.
    let (status, body, _) = get(&server, &other.access, &format!("/v1/photos/{hex}")).await;
    let missing = hex_digest(b"nothing");
    let (status_missing, body_missing, _) =
        get(&server, &other.access, &format!("/v1/photos/{missing}")).await;
    assert_eq!((status, code(&body)), (404, "photo_not_found".to_owned()));
    assert_eq!((status_missing, code(&body_missing)), (status, code(&body)));
    let foreign = patch(&server, &other.access, &hex, 0, len, photo.clone()).await;
    assert_eq!(foreign.status, 404);

    // The admin API lists the record's photos and fetches them; others may not.
    let boss = server.login("boss", Uuid::now_v7()).await;
    let id = phone
        .query("activities", &lapak_core::Query::new())
        .unwrap()[0]
        .id
        .clone();
    let (status, body, _) = get(
        &server,
        &boss.access,
        &format!("/v1/admin/records/activities/{id}/photos"),
    )
    .await;
    assert_eq!(status, 200);
    let listed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(listed["photos"][0]["ref"], json!(reference_of(&photo)));
    assert_eq!(listed["photos"][0]["stored"], json!(true));
    let (status, bytes, _) = get(&server, &boss.access, &format!("/v1/admin/photos/{hex}")).await;
    assert_eq!((status, bytes == photo), (200, true));
    let (status, _, _) = get(&server, &sales.access, &format!("/v1/admin/photos/{hex}")).await;
    assert_eq!(status, 403);
}

async fn bad_uploads_are_refused_with_what_to_do(h: Harness) {
    let server = setup(h).await;
    let photo = jpeg(1_000, 2);
    let not_image = b"GIF89a and more bytes".to_vec();
    let dir = tempfile::tempdir().unwrap();
    let mut phone = business_device(dir.path(), "phone", &["territory:T-1", "org"]);
    let sales = server.login("sales", phone.device_id()).await;
    activity(
        &mut phone,
        &[&reference_of(&photo), &reference_of(&not_image)],
    );
    server.sync(&sales.access, &mut phone).await;
    let hex = hex_digest(&photo);

    // Bytes that are not the photo named: refused, and the upload starts over.
    let mut wrong = photo.clone();
    wrong[500] ^= 1;
    let corrupt = patch(&server, &sales.access, &hex, 0, wrong.len() as u64, wrong).await;
    assert_eq!(refusal(&corrupt), (422, Some("photo_corrupt")));
    let (_, body, _) = get(&server, &sales.access, &format!("/v1/photos/{hex}/upload")).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["offset"],
        json!(0)
    );
    // Not an image, though its hash matches.
    let gif = patch(
        &server,
        &sales.access,
        &hex_digest(&not_image),
        0,
        not_image.len() as u64,
        not_image.clone(),
    )
    .await;
    assert_eq!(gif.status, 422);
    assert!(
        gif.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JPEG, PNG or WebP")
    );
    // Too large, before a byte is read.
    let big = patch(
        &server,
        &sales.access,
        &hex,
        0,
        MAX_PHOTO_BYTES + 1,
        Vec::new(),
    )
    .await;
    assert_eq!(refusal(&big), (413, Some("photo_too_large")));
    // More bytes than announced.
    let long = patch(&server, &sales.access, &hex, 0, 10, photo.clone()).await;
    assert_eq!(refusal(&long), (400, Some("invalid_upload")));
    // Missing headers, a malformed name.
    let resp = server
        .http
        .patch(format!("{}/v1/photos/{hex}/upload", server.base))
        .bearer_auth(&sales.access)
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    for bad in ["../../etc/passwd", "ABC", "sha256:xyz"] {
        let (status, body, _) = get(&server, &sales.access, &format!("/v1/photos/{bad}")).await;
        assert!(status == 400 || status == 404, "{bad}: {status}");
        if status == 400 {
            assert_eq!(code(&body), "invalid_photo_ref");
        }
    }
    // Unauthenticated.
    let resp = server
        .http
        .get(format!("{}/v1/photos/{hex}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // And after all that, the right bytes are still taken.
    let ok = patch(
        &server,
        &sales.access,
        &hex,
        0,
        photo.len() as u64,
        photo.clone(),
    )
    .await;
    assert_eq!(ok.body["stored"].as_bool(), Some(true));
}

/// An answer's status and error code.
fn refusal(answer: &Answer) -> (u16, Option<&str>) {
    (answer.status, answer.body["error"]["code"].as_str())
}

async fn states(server: &TestServer, token: &str, photos: &serde_json::Value) -> Answer {
    let resp = server
        .http
        .post(format!("{}/v1/photos/upload-states", server.base))
        .bearer_auth(token)
        .json(&json!({ "photos": photos }))
        .send()
        .await
        .unwrap();
    Answer {
        status: resp.status().as_u16(),
        body: resp.json().await.unwrap_or_default(),
    }
}

async fn many_uploads_are_asked_about_in_one_request(h: Harness) {
    let server = setup(h).await;
    let dir = tempfile::tempdir().unwrap();
    let mut phone = business_device(dir.path(), "phone", &["territory:T-1", "org"]);
    let sales = server.login("sales", phone.device_id()).await;
    let other = server.login("other", Uuid::now_v7()).await;
    let (fresh, partial, whole) = (jpeg(1_000, 3), jpeg(6 << 20, 4), jpeg(2_000, 5));
    let unreferenced = jpeg(1_000, 6);
    activity(
        &mut phone,
        &[
            &reference_of(&fresh),
            &reference_of(&partial),
            &reference_of(&whole),
        ],
    );
    server.sync(&sales.access, &mut phone).await;
    let (p_hex, p_len) = (hex_digest(&partial), partial.len() as u64);
    let first = patch(
        &server,
        &sales.access,
        &p_hex,
        0,
        p_len,
        partial[..1 << 20].to_vec(),
    )
    .await;
    assert_eq!(first.body["offset"], json!(1 << 20));
    let w_hex = hex_digest(&whole);
    patch(
        &server,
        &sales.access,
        &w_hex,
        0,
        whole.len() as u64,
        whole.clone(),
    )
    .await;

    // One request: each photo's state, the prefix or not as it was asked.
    let asked = json!([
        reference_of(&fresh),
        p_hex,
        w_hex,
        hex_digest(&unreferenced)
    ]);
    let answer = states(&server, &sales.access, &asked).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body["photos"],
        json!([
            {"photo": reference_of(&fresh), "referenced": true, "stored": false, "offset": 0},
            {"photo": p_hex, "referenced": true, "stored": false, "offset": 1 << 20},
            {"photo": w_hex, "referenced": true, "stored": true, "offset": 0},
            {"photo": hex_digest(&unreferenced), "referenced": false, "stored": false, "offset": 0},
        ])
    );
    // Another territory learns nothing about them: each looks like a photo that does not exist.
    let foreign = states(&server, &other.access, &asked).await;
    for answer in foreign.body["photos"].as_array().unwrap() {
        assert_eq!(
            (&answer["referenced"], &answer["stored"], &answer["offset"]),
            (&json!(false), &json!(false), &json!(0)),
            "{answer}"
        );
    }

    // Bounded, and named when wrong.
    let too_many = json!(vec![w_hex.clone(); 501]);
    let refused = states(&server, &sales.access, &too_many).await;
    assert_eq!(refusal(&refused), (400, Some("too_many_photos")));
    let bad = states(&server, &sales.access, &json!(["../etc/passwd"])).await;
    assert_eq!(refusal(&bad), (400, Some("invalid_photo_ref")));

    // A whole photo sent at a stale offset is heard out and answered, not cut off mid-send:
    // the client learns where to continue instead of seeing a broken connection.
    let stale = patch(&server, &sales.access, &p_hex, 0, p_len, partial.clone()).await;
    assert_eq!(refusal(&stale), (409, Some("offset_mismatch")));
    let rest = patch(
        &server,
        &sales.access,
        &p_hex,
        1 << 20,
        p_len,
        partial[1 << 20..].to_vec(),
    )
    .await;
    assert_eq!(rest.body["stored"], json!(true));
}

async fn photos_no_record_references_are_collected(h: Harness) {
    let server = setup(h).await;
    let (kept, dropped) = (jpeg(2_000, 3), jpeg(2_000, 4));
    let dir = tempfile::tempdir().unwrap();
    let mut phone = business_device(dir.path(), "phone", &["territory:T-1", "org"]);
    let sales = server.login("sales", phone.device_id()).await;
    activity(&mut phone, &[&reference_of(&kept)]);
    let mut profile = Record::new();
    profile.insert("outlet".into(), Value::Text("OUT-1".into()));
    profile.insert("territory".into(), Value::Text("T-1".into()));
    phone
        .create_with_id("outlet_profiles", "OUT-1", profile)
        .unwrap();
    let item = [
        ("ref", Scalar::Text(reference_of(&dropped))),
        ("taken_at", Scalar::Int(1)),
        ("caption", Scalar::Text("x".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    phone
        .edit(
            "outlet_profiles",
            "OUT-1",
            vec![Edit::InsertItem {
                field: "photos".into(),
                index: 0,
                item,
            }],
        )
        .unwrap();
    server.sync(&sales.access, &mut phone).await;
    assert_eq!(phone.rejections().unwrap(), vec![]);
    for p in [&kept, &dropped] {
        let r = patch(
            &server,
            &sales.access,
            &hex_digest(p),
            0,
            p.len() as u64,
            p.clone(),
        )
        .await;
        assert_eq!(r.body["stored"].as_bool(), Some(true), "{:?}", r.body);
    }
    // The profile's photo is removed; nothing references it now.
    phone
        .edit(
            "outlet_profiles",
            "OUT-1",
            vec![Edit::RemoveItem {
                field: "photos".into(),
                index: 0,
            }],
        )
        .unwrap();
    server.sync(&sales.access, &mut phone).await;

    let state = &server.state;
    let now = lapak_server::app::AppState::now_ms();
    // Within the grace period nothing goes.
    let young = lapak_server::photos::gc::collect(
        state.storage.as_ref(),
        state.photos.as_ref(),
        &state.uploads,
        now,
        3_600_000,
        false,
    )
    .await
    .unwrap();
    assert_eq!((young.stored, young.deleted.len()), (2, 0));
    let dry = lapak_server::photos::gc::collect(
        state.storage.as_ref(),
        state.photos.as_ref(),
        &state.uploads,
        now + 10_000,
        0,
        true,
    )
    .await
    .unwrap();
    assert_eq!(dry.deleted, vec![reference_of(&dropped)]);
    assert!(
        state.photos.exists(&hex_digest(&dropped)).await.unwrap(),
        "a dry run deletes nothing"
    );
    let done = lapak_server::photos::gc::collect(
        state.storage.as_ref(),
        state.photos.as_ref(),
        &state.uploads,
        now + 10_000,
        0,
        false,
    )
    .await
    .unwrap();
    assert_eq!(done.deleted, vec![reference_of(&dropped)]);
    assert!(!state.photos.exists(&hex_digest(&dropped)).await.unwrap());
    assert!(
        state.photos.exists(&hex_digest(&kept)).await.unwrap(),
        "a referenced photo stays"
    );
}
