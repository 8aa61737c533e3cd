//! The `lapak` binary's list edits, offline on a device directory: a list of an existing record
//! is edited item by item; replacing it whole must be asked for.

use std::path::Path;
use std::process::{Command, Output};

fn lapak(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lapak"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = lapak(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn skus(dir: &Path) -> Vec<(String, i64)> {
    let row: serde_json::Value =
        serde_json::from_str(ok(dir, &["query", "held_bills"]).trim()).unwrap();
    row["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_owned(),
                l["qty"].as_i64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn lists_are_edited_item_by_item_and_replaced_only_on_purpose() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let put = |extra: &[&str]| {
        let mut args = vec!["put", "held_bills", "--id", "HB-1"];
        args.extend_from_slice(extra);
        ok(dir, &args)
    };
    put(&[
        "branch=JKT-01",
        r#"lines=[{"sku":"A","qty":1},{"sku":"B","qty":2}]"#,
    ]);
    assert_eq!(skus(dir), vec![("A".into(), 1), ("B".into(), 2)]);

    // Setting a list of an existing record is refused, with the way to do it instead.
    let out = lapak(
        dir,
        &[
            "put",
            "held_bills",
            "--id",
            "HB-1",
            r#"lines=[{"sku":"C"}]"#,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--add") && err.contains("--replace"), "{err}");
    assert_eq!(skus(dir).len(), 2, "nothing changed");

    put(&["--add", r#"lines={"sku":"C","qty":3}"#]);
    put(&["--update", r#"lines[sku=B]={"qty":5}"#]);
    put(&[
        "--remove",
        "lines[0]",
        "--add",
        r#"lines[0]={"sku":"Z","qty":1}"#,
    ]);
    assert_eq!(
        skus(dir),
        vec![("Z".into(), 1), ("B".into(), 5), ("C".into(), 3)]
    );
    put(&["--replace", r#"lines=[{"sku":"R","qty":9}]"#]);
    assert_eq!(skus(dir), vec![("R".into(), 9)]);

    let out = lapak(
        dir,
        &[
            "put",
            "held_bills",
            "--id",
            "HB-1",
            "--remove",
            "lines[sku=NOPE]",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sku=NOPE"));
}
