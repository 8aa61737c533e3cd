//! Co-creation end to end (issue 10, section 1), on the business catalogue, with a real server
//! on port 0 (SQLite, and real Postgres) and real clients over HTTP: several devices create the
//! `outlet_profiles` record of one outlet offline, under the same id (the outlet's `customers`
//! code), and every field and photo of every device survives on every device and in the
//! server's plain tables; a user who may not write the outlet's territory is refused and keeps
//! nothing.
//!
//! Why these fail without document genesis (docs/protocol.md 5.3.1, ARCHITECTURE.md invariant
//! 24): before it, each device's creation made its own Automerge objects for `address`, `notes`
//! and `photos` (and its own root), so when two creations of one id met, the document's merge
//! picked one device's text and list objects for each field and dropped the other's: one side's
//! address or notes and its photos were lost (and the sides could not agree which). Every
//! assertion below that a field holds both devices' text, or that the photos list holds every
//! device's photo, fails on that code.

mod common;

use common::{Env, PASSWORD};
use lapak_client::Client;
use lapak_core::{Edit, Item, Record, Scalar, Value, item, record};
use lapak_server::auth::Role;
use lapak_server::demo::DemoSize;

/// One test per case and backend.
macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let env = super::common::Env::sqlite_with(super::common::Catalog::Business).await;
                    super::$case(env, super::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[sqlx::test(migrations = false)]
                async fn $case(pool: sqlx::PgPool) {
                    let env = super::common::Env::postgres_with(pool, super::common::Catalog::Business).await;
                    super::$case(env, super::Backend::Postgres).await;
                }
            )*
        }
    };
}

both_backends!(
    two_devices_create_one_outlet_profile_offline_and_keep_both_sides,
    three_creations_edits_and_a_delete_end_equal_everywhere,
    a_creation_outside_the_writers_territory_is_refused_and_leaves_the_device,
);

/// Which backend a case runs on: the cases vary their sync orders by it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

const COLLECTION: &str = "outlet_profiles";
/// The salesperson's territory (the demo's first) and its branch's supervisor.
const TERRITORY: &str = "T-JKT01-001";
const SALES: &str = "s-jkt01001";
const SUPERVISOR: &str = "sup-jkt01";
/// A salesperson of the branch's other territory: may not write `TERRITORY`.
const NEIGHBOUR: &str = "s-jkt01002";

/// Seeds the demo business small: two branches, four territories (`T-JKT01-001`,
/// `T-BDG01-001`, `T-JKT01-002`, `T-BDG01-002`), outlets `OUT-000001`.. spread over them in that
/// order (so outlets 1, 5 and 9 are in `TERRITORY`).
async fn seed(env: &Env) {
    let size = DemoSize {
        seed: 11,
        branches: 2,
        terminals: 2,
        salespeople: 4,
        outlets: 12,
        items: 2,
        vouchers: 1,
        stocked_items: 1,
    };
    let hash = lapak_server::auth::hash_password(PASSWORD).unwrap();
    lapak_server::demo::seed(env.storage(), &size, &hash, |_| {})
        .await
        .unwrap();
    for outlet in ["OUT-000001", "OUT-000005", "OUT-000009"] {
        let row = env
            .storage()
            .query_text(&format!(
                "SELECT territory FROM customers WHERE id = '{outlet}'"
            ))
            .await
            .unwrap();
        assert_eq!(row[0][0].as_deref(), Some(TERRITORY), "{outlet}");
    }
}

fn photo(r: &str) -> Item {
    item! {"ref" => r, "caption" => format!("caption of {r}")}
}

/// A profile of `outlet` in `territory` with `fields` besides.
fn profile(outlet: &str, territory: &str, mut fields: Record) -> Record {
    fields.insert("outlet".into(), Value::Text(outlet.into()));
    fields.insert("territory".into(), Value::Text(territory.into()));
    fields
}

fn text(r: &Record, field: &str) -> String {
    match &r[field] {
        Value::Text(t) => t.clone(),
        other => panic!("{field} is not text: {other:?}"),
    }
}

/// The photos' refs, sorted.
fn refs(r: &Record) -> Vec<String> {
    let Value::List(items) = &r["photos"] else {
        panic!("photos is a list: {:?}", r["photos"])
    };
    let mut refs: Vec<String> = items
        .iter()
        .map(|i| match &i["ref"] {
            Scalar::Text(t) => t.clone(),
            other => panic!("ref is text: {other:?}"),
        })
        .collect();
    refs.sort();
    refs
}

async fn fields_on(c: &Client, id: &str) -> Record {
    c.get(COLLECTION, id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{id} is on the device"))
        .fields
}

/// The server's plain row of `id` (`address`, `phone`, `notes`) and its photos' refs, sorted.
async fn server_row(env: &Env, id: &str) -> (Vec<Option<String>>, Vec<String>) {
    let rows = env
        .storage()
        .query_text(&format!(
            "SELECT address, phone, notes FROM outlet_profiles WHERE id = '{id}'"
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one plain row of {id}");
    let photos = env
        .storage()
        .query_text(&format!(
            "SELECT \"ref\" FROM outlet_profiles_photos WHERE parent_id = '{id}' ORDER BY \"ref\""
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    (rows[0].clone(), photos)
}

async fn assert_nothing_refused(devices: &[&Client]) {
    for c in devices {
        assert_eq!(c.rejections().await.unwrap(), vec![], "nothing refused");
        assert_eq!(c.status().borrow().pending, 0, "everything pushed");
    }
}

/// The scenario: the salesperson fills the address and a photo, the supervisor the
/// phone, the notes and another photo, both offline, under the outlet's code. Two outlets, the
/// salesperson syncing first for one and last for the other.
async fn two_devices_create_one_outlet_profile_offline_and_keep_both_sides(
    mut env: Env,
    backend: Backend,
) {
    seed(&env).await;
    let sales = env.client("phone", SALES).await;
    let sup = env.client("tablet", SUPERVISOR).await;
    for c in [&sales, &sup] {
        c.sync_once().await.unwrap();
    }
    // Both devices hold the outlet they are about to profile.
    for c in [&sales, &sup] {
        assert!(c.get("customers", "OUT-000001").await.unwrap().is_some());
    }
    // Two rounds, one outlet each: the salesperson pushes first in one, the supervisor in the
    // other (the backends swap which round is which).
    let sales_first = if backend == Backend::Sqlite {
        [true, false]
    } else {
        [false, true]
    };
    let outlets = ["OUT-000001", "OUT-000005"];
    for (id, sales_first) in outlets.into_iter().zip(sales_first) {
        // The network goes away; both create the outlet's profile.
        env.stop_server().await;
        // Both in the territory only: the salesperson may not write the branch.
        sales
            .create_with_id(
                COLLECTION,
                id,
                profile(
                    id,
                    TERRITORY,
                    record! {"address" => format!("Jl. Melati 5, {id}"),
                    "photos" => Value::List(vec![photo(&format!("{id}-front.jpg"))])},
                ),
            )
            .await
            .unwrap();
        sup.create_with_id(
            COLLECTION,
            id,
            profile(
                id,
                TERRITORY,
                record! {"phone" => "0812-555", "notes" => format!("pays cash, {id}"),
                "photos" => Value::List(vec![photo(&format!("{id}-shelf.jpg"))])},
            ),
        )
        .await
        .unwrap();
        env.start_server().await;
        let (a, b) = if sales_first {
            (&sales, &sup)
        } else {
            (&sup, &sales)
        };
        // The first pushes, and pulls its own creation back, before the second is heard.
        a.sync_once().await.unwrap();
        b.sync_once().await.unwrap();
        a.sync_once().await.unwrap();
    }
    for c in [&sales, &sup] {
        c.sync_once().await.unwrap();
    }
    assert_nothing_refused(&[&sales, &sup]).await;
    for id in outlets {
        let merged = fields_on(&sales, id).await;
        assert_eq!(
            fields_on(&sup, id).await,
            merged,
            "both devices agree on {id}"
        );
        assert_eq!(text(&merged, "address"), format!("Jl. Melati 5, {id}"));
        assert_eq!(text(&merged, "phone"), "0812-555");
        assert_eq!(text(&merged, "notes"), format!("pays cash, {id}"));
        assert_eq!(text(&merged, "territory"), TERRITORY);
        let want = vec![format!("{id}-front.jpg"), format!("{id}-shelf.jpg")];
        assert_eq!(refs(&merged), want, "both photos of {id}");
        let (row, photos) = server_row(&env, id).await;
        assert_eq!(
            row,
            vec![
                Some(format!("Jl. Melati 5, {id}")),
                Some("0812-555".into()),
                Some(format!("pays cash, {id}"))
            ]
        );
        assert_eq!(photos, want, "the server's child rows of {id}");
    }
    env.stop_server().await;
}

/// Three devices create one id with the same fields (each its own notes, photo and phone),
/// then each types into the notes and adds a photo, then one deletes while another edits.
async fn three_creations_edits_and_a_delete_end_equal_everywhere(mut env: Env, backend: Backend) {
    seed(&env).await;
    let devices = [
        env.client("phone", SALES).await,
        env.client("phone-2", SALES).await,
        env.client("tablet", SUPERVISOR).await,
    ];
    let all: Vec<&Client> = devices.iter().collect();
    let id = "OUT-000009";
    for (i, c) in devices.iter().enumerate() {
        c.create_with_id(
            COLLECTION,
            id,
            profile(
                id,
                TERRITORY,
                record! {"notes" => format!("<{i}>"), "phone" => format!("0812-{i}"),
                "photos" => Value::List(vec![photo(&format!("p{i}"))])},
            ),
        )
        .await
        .unwrap();
    }
    // Every device pushes before the last one's first sync ends, and syncs again after it.
    let scrambled: [usize; 6] = if backend == Backend::Sqlite {
        [2, 0, 1, 2, 0, 1]
    } else {
        [1, 2, 0, 2, 1, 0]
    };
    let sync = |order: [usize; 6]| {
        let devices = &devices;
        async move {
            for i in order {
                devices[i].sync_once().await.unwrap();
            }
        }
    };
    sync(scrambled).await;
    assert_nothing_refused(&all).await;
    let first = fields_on(&devices[0], id).await;
    for c in &devices {
        assert_eq!(fields_on(c, id).await, first, "every device agrees");
    }
    let notes = text(&first, "notes");
    for i in 0..3 {
        assert!(notes.contains(&format!("<{i}>")), "{notes}");
    }
    assert_eq!(refs(&first), ["p0", "p1", "p2"]);
    let phone = text(&first, "phone");
    assert!(
        ["0812-0", "0812-1", "0812-2"].contains(&phone.as_str()),
        "one device's phone wins: {phone}"
    );
    let (row, photos) = server_row(&env, id).await;
    // Nobody wrote an address: the genesis's empty text.
    assert_eq!(
        row,
        vec![
            Some(String::new()),
            Some(phone.clone()),
            Some(notes.clone())
        ]
    );
    assert_eq!(photos, ["p0", "p1", "p2"]);

    // Offline again: each types into the notes and adds a photo.
    for (i, c) in devices.iter().enumerate() {
        c.edit(
            COLLECTION,
            id,
            vec![
                Edit::SpliceText {
                    field: "notes".into(),
                    index: 0,
                    delete: 0,
                    insert: format!("[{i}]"),
                },
                Edit::InsertItem {
                    field: "photos".into(),
                    index: 3,
                    item: photo(&format!("q{i}")),
                },
            ],
        )
        .await
        .unwrap();
    }
    sync([scrambled[3], scrambled[4], scrambled[5], 0, 1, 2]).await;
    assert_nothing_refused(&all).await;
    let after = fields_on(&devices[1], id).await;
    for c in &devices {
        assert_eq!(fields_on(c, id).await, after, "every device agrees");
    }
    let notes = text(&after, "notes");
    for i in 0..3 {
        assert!(
            notes.contains(&format!("<{i}>")) && notes.contains(&format!("[{i}]")),
            "{notes}"
        );
    }
    assert_eq!(refs(&after), ["p0", "p1", "p2", "q0", "q1", "q2"]);
    let (row, photos) = server_row(&env, id).await;
    assert_eq!(row[2].as_deref(), Some(notes.as_str()));
    assert_eq!(photos, ["p0", "p1", "p2", "q0", "q1", "q2"]);

    // One deletes while another edits: the delete wins everywhere, and neither is refused.
    devices[2].delete(COLLECTION, id).await.unwrap();
    devices[0]
        .set(COLLECTION, id, "phone", Value::Text("0813".into()))
        .await
        .unwrap();
    sync(scrambled).await;
    assert_nothing_refused(&all).await;
    for c in &devices {
        assert!(
            c.get(COLLECTION, id).await.unwrap().is_none(),
            "deleted everywhere"
        );
    }
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM outlet_profiles")
            .await,
        0
    );
    assert_eq!(
        env.count("SELECT CAST(COUNT(*) AS TEXT) FROM outlet_profiles_photos")
            .await,
        0
    );
    env.stop_server().await;
}

/// The salesperson and the supervisor co-create the profile (which needs the genesis); a
/// neighbouring territory's salesperson creates the same id offline on two devices: once in
/// their own territory, pushed before anyone else (the rule's `outlet_out_of_scope`: the outlet
/// is not theirs), once in the outlet's territory, pushed after the profile exists
/// (`forbidden_scope`: they may not write it). Both leave the neighbour's devices; the
/// legitimate data is intact.
async fn a_creation_outside_the_writers_territory_is_refused_and_leaves_the_device(
    mut env: Env,
    backend: Backend,
) {
    seed(&env).await;
    env.user(
        "s-jkt01002-b",
        Role::Salesperson,
        &[("territory:T-JKT01-002", true), ("org", false)],
    )
    .await;
    let sales = env.client("phone", SALES).await;
    let sup = env.client("tablet", SUPERVISOR).await;
    let own = env.client("neighbour", NEIGHBOUR).await;
    let theirs = env.client("neighbour-2", "s-jkt01002-b").await;
    let id = "OUT-000001";
    let intruded = |territory: &str, n: &str| {
        profile(
            id,
            territory,
            record! {"address" => "Jl. Palsu 1", "phone" => "0899", "notes" => format!("squatted {n}"),
            "photos" => Value::List(vec![photo(&format!("fake-{n}.jpg"))])},
        )
    };
    own.create_with_id(COLLECTION, id, intruded("T-JKT01-002", "1"))
        .await
        .unwrap();
    theirs
        .create_with_id(COLLECTION, id, intruded(TERRITORY, "2"))
        .await
        .unwrap();
    sales
        .create_with_id(
            COLLECTION,
            id,
            profile(
                id,
                TERRITORY,
                record! {"address" => "Jl. Melati 5", "photos" => Value::List(vec![photo("front.jpg")])},
            ),
        )
        .await
        .unwrap();
    sup.create_with_id(
        COLLECTION,
        id,
        profile(
            id,
            TERRITORY,
            record! {"phone" => "0812-555", "notes" => "pays cash", "photos" => Value::List(vec![photo("shelf.jpg")])},
        ),
    )
    .await
    .unwrap();
    // The neighbour in their own territory first; the legitimate pair in an order per backend;
    // then the neighbour in the outlet's territory; then everyone once more.
    own.sync_once().await.unwrap();
    let pair = if backend == Backend::Sqlite {
        [&sales, &sup]
    } else {
        [&sup, &sales]
    };
    for c in pair {
        c.sync_once().await.unwrap();
    }
    theirs.sync_once().await.unwrap();
    for c in [&sales, &sup, &own, &theirs] {
        c.sync_once().await.unwrap();
    }
    assert_nothing_refused(&[&sales, &sup]).await;
    for (c, code) in [(&own, "outlet_out_of_scope"), (&theirs, "forbidden_scope")] {
        let r = c.rejections().await.unwrap();
        let codes: Vec<(&str, &str)> = r
            .iter()
            .map(|r| (r.record_id.as_str(), r.code.as_str()))
            .collect();
        assert_eq!(codes, [(id, code)], "{r:?}");
        assert!(
            c.get(COLLECTION, id).await.unwrap().is_none(),
            "the refused creation left the device"
        );
        assert_eq!(c.status().borrow().pending, 0);
    }
    let merged = fields_on(&sales, id).await;
    assert_eq!(fields_on(&sup, id).await, merged);
    assert_eq!(text(&merged, "address"), "Jl. Melati 5");
    assert_eq!(text(&merged, "phone"), "0812-555");
    assert_eq!(text(&merged, "notes"), "pays cash");
    assert_eq!(refs(&merged), ["front.jpg", "shelf.jpg"]);
    let (row, photos) = server_row(&env, id).await;
    assert_eq!(
        row,
        vec![
            Some("Jl. Melati 5".into()),
            Some("0812-555".into()),
            Some("pays cash".into())
        ]
    );
    assert_eq!(photos, ["front.jpg", "shelf.jpg"]);
    env.stop_server().await;
}
