use lapak_core::testkit::{MemoryServer, sample_schema, sync_fully};
use lapak_core::{Edit, Store, item, record};

#[test]
fn two_devices_merge() {
    let mut server = MemoryServer::new(sample_schema());
    let mut a = Store::open_in_memory(sample_schema()).unwrap();
    let mut b = Store::open_in_memory(sample_schema()).unwrap();
    for s in [&mut a, &mut b] {
        s.set_scopes(&["branch:A".into(), "org".into()]).unwrap();
    }
    let id = a
        .create(
            "outlets",
            record! {"name" => "Toko", "branch" => "A", "notes" => "hello"},
        )
        .unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    sync_fully(&mut b, &mut server).unwrap();
    assert_eq!(
        b.get("outlets", &id).unwrap().unwrap().fields["notes"],
        "hello".into()
    );
    a.edit(
        "outlets",
        &id,
        vec![Edit::SpliceText {
            field: "notes".into(),
            index: 5,
            delete: 0,
            insert: " world".into(),
        }],
    )
    .unwrap();
    b.edit(
        "outlets",
        &id,
        vec![Edit::SpliceText {
            field: "notes".into(),
            index: 0,
            delete: 0,
            insert: ">> ".into(),
        }],
    )
    .unwrap();
    b.edit(
        "outlets",
        &id,
        vec![Edit::InsertItem {
            field: "lines".into(),
            index: 0,
            item: item! {"sku" => "X", "qty" => 1},
        }],
    )
    .unwrap();
    a.append("sales", record! {"branch" => "A", "total" => 100})
        .unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    sync_fully(&mut b, &mut server).unwrap();
    sync_fully(&mut a, &mut server).unwrap();
    let ra = a.get("outlets", &id).unwrap().unwrap();
    let rb = b.get("outlets", &id).unwrap().unwrap();
    assert_eq!(ra, rb);
    assert_eq!(ra.fields["notes"], ">> hello world".into());
    assert_eq!(b.count("sales").unwrap(), 1);
}
