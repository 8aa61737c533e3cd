//! The engine demo behind `scripts/run.sh`: two POS terminals of one branch, each with its own
//! SQLite file, edit the same outlet and ring up sales while offline, then reconnect through an
//! in-memory sequencer (the server's semantics, no network) and converge. It prints each step.

use std::path::PathBuf;

use lapak_core::testkit::{MemoryServer, sample_schema, sync_fully};
use lapak_core::{Edit, Query, Store, Verdict, item, record};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::var("LAPAK_DATA_DIR").unwrap_or_else(|_| "data/demo".into()));
    std::fs::create_dir_all(&dir)?;
    let paths = [dir.join("pos-1.sqlite"), dir.join("pos-2.sqlite")];
    for p in &paths {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
    }
    let mut server = MemoryServer::new(sample_schema());
    server.set_rule(Box::new(|collection, record| {
        (collection == "sales"
            && record.get("total").and_then(lapak_core::Value::as_int) <= Some(0))
        .then(|| {
            (
                "invalid_total".to_owned(),
                "A sale must total more than zero: ring it up again with its items.".to_owned(),
            )
        })
    }));
    let mut pos1 = Store::open(&paths[0], sample_schema())?;
    let mut pos2 = Store::open(&paths[1], sample_schema())?;
    let scopes = ["branch:JKT".to_owned(), "org".to_owned()];
    pos1.set_scopes(&scopes)?;
    pos2.set_scopes(&scopes)?;
    let changes = pos2.subscribe();

    println!(
        "Lapak engine demo: two POS terminals of branch JKT, stores in {}\n",
        dir.display()
    );
    println!("1. The back office publishes 3 items; both terminals sync.");
    for (sku, name, price) in [
        ("KOPI", "Kopi Kapal Api 165g", 14_500),
        ("GULA", "Gulaku 1kg", 17_900),
        ("TEH", "Teh Botol 350ml", 5_000),
    ] {
        server.put_reference(
            "items",
            sku,
            record! {"sku" => sku, "name" => name, "price" => price},
        );
    }
    sync_fully(&mut pos1, &mut server)?;
    sync_fully(&mut pos2, &mut server)?;
    println!(
        "   pos-1 holds {} items, pos-2 holds {} items\n",
        pos1.count("items")?,
        pos2.count("items")?
    );

    println!("2. pos-1 creates the outlet profile of Toko Maju and syncs; pos-2 pulls it.");
    let outlet = pos1.create(
        "outlets",
        record! {"name" => "Toko Maju", "branch" => "JKT", "notes" => "Buka jam 7."},
    )?;
    sync_fully(&mut pos1, &mut server)?;
    sync_fully(&mut pos2, &mut server)?;
    let seen = pos2.get("outlets", &outlet)?.expect("pulled");
    println!(
        "   pos-2 sees {} with notes \"{}\"\n",
        seen.fields["name"], seen.fields["notes"]
    );

    println!("3. The network drops. Both terminals keep working:");
    pos1.edit(
        "outlets",
        &outlet,
        vec![Edit::SpliceText {
            field: "notes".into(),
            index: 11,
            delete: 0,
            insert: " Tutup hari Minggu.".into(),
        }],
    )?;
    pos1.set("outlets", &outlet, "phone", "0812-555-0101")?;
    pos1.append("sales", record! {"branch" => "JKT", "terminal" => "pos-1", "total" => 29_000,
        "lines" => lapak_core::Value::List(vec![item! {"sku" => "KOPI", "qty" => 2, "price" => 14_500}])})?;
    pos1.append(
        "sales",
        record! {"branch" => "JKT", "terminal" => "pos-1", "total" => 0},
    )?;
    println!("   pos-1: appends to the notes, sets the phone, rings up a sale and a bad zero sale");
    pos2.edit(
        "outlets",
        &outlet,
        vec![
            Edit::SpliceText {
                field: "notes".into(),
                index: 0,
                delete: 0,
                insert: "Pemilik: Bu Sari. ".into(),
            },
            Edit::InsertItem {
                field: "lines".into(),
                index: 0,
                item: item! {"sku" => "GULA", "qty" => 10},
            },
        ],
    )?;
    pos2.append("sales", record! {"branch" => "JKT", "terminal" => "pos-2", "total" => 35_800,
        "lines" => lapak_core::Value::List(vec![item! {"sku" => "GULA", "qty" => 2, "price" => 17_900}])})?;
    println!("   pos-2: prepends to the notes, adds an order line, rings up a sale");
    println!(
        "   pending uploads: pos-1 {}, pos-2 {}\n",
        pos1.pending_count()?,
        pos2.pending_count()?
    );

    println!("4. The network is back: pos-2 syncs, then pos-1, then pos-2 again.");
    sync_fully(&mut pos2, &mut server)?;
    sync_fully(&mut pos1, &mut server)?;
    sync_fully(&mut pos2, &mut server)?;
    for (name, s) in [("pos-1", &pos1), ("pos-2", &pos2)] {
        let o = s.get("outlets", &outlet)?.expect("outlet present");
        println!(
            "   {name} notes: \"{}\"",
            o.fields["notes"].as_text().unwrap_or_default()
        );
        println!(
            "   {name} phone: {}, order lines: {}",
            o.fields["phone"],
            o.fields["lines"].as_list().map_or(0, <[_]>::len)
        );
        let sales = s.query("sales", &Query::new().order_by("terminal", false))?;
        let accepted = sales
            .iter()
            .filter(|r| matches!(r.verdict, Some(Verdict::Accepted { .. })))
            .count();
        println!(
            "   {name} sales: {} rows, {accepted} accepted; pending uploads {}",
            sales.len(),
            s.pending_count()?
        );
    }
    let same = pos1.get("outlets", &outlet)? == pos2.get("outlets", &outlet)?;
    println!("   both terminals hold the same outlet: {same}\n");

    println!("5. What the server refused, as pos-1's cashier sees it:");
    for r in pos1.rejections()? {
        println!(
            "   {} {}: [{}] {}",
            r.collection, r.record_id, r.code, r.message
        );
    }
    let notified: usize = changes.try_iter().map(|c| c.ids.len()).sum();
    println!("\npos-2's UI was notified of {notified} changed records along the way.");
    println!(
        "Open the stores with: sqlite3 {} 'select * from sales'",
        paths[0].display()
    );
    Ok(())
}
