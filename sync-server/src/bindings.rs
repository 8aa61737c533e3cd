//! The TypeScript types of the admin web's API, in one generated file the page imports
//! (`ui/admin/src/generated/api.ts`). `admin_bindings_are_current` fails when the committed file
//! is not what these types generate; run it with `LAPAK_UPDATE_BINDINGS=1` to rewrite it.

use std::path::PathBuf;

use ts_rs::{Config, TS};

use crate::auth::{Grant, Role};
use crate::import::{ImportCheck, ImportProgress, RowError};
use crate::routes::v1::admin::{ListedPhoto, RecordPhotos};
use crate::routes::v1::users::NewUser;
use crate::routes::v1::web::{SignIn, WebSession};
use crate::storage::back_office::{BranchSales, DeviceCounts, Today};
use crate::storage::fleet::{DeviceRow, Page, Rejection};
use crate::storage::master_data::{DataCollection, DataField, DataRow, FieldKind};
use crate::storage::reports::{Report, ReportColumn, ReportKind};
use crate::storage::{ExceptionRecord, UserInfo};

/// The generated file, relative to this crate.
const OUT: &str = "../ui/admin/src/generated/api.ts";

macro_rules! declarations {
    ($cfg:expr; $($t:ty),* $(,)?) => {
        vec![$(
            match <$t as TS>::docs() {
                Some(docs) => format!("{docs}export {}", <$t as TS>::decl($cfg)),
                None => format!("export {}", <$t as TS>::decl($cfg)),
            }
        ),*]
    };
}

/// The whole file.
fn generate() -> String {
    let cfg = Config::default();
    let decls = declarations!(&cfg;
        Role, Grant, SignIn, WebSession, BranchSales, DeviceCounts, Today,
        UserInfo, NewUser, Page<()>, DeviceRow, Rejection, ExceptionRecord,
        FieldKind, DataField, DataCollection, DataRow, RowError, ImportCheck, ImportProgress,
        ReportKind, ReportColumn, Report, ListedPhoto, RecordPhotos,
    );
    let mut out = String::from(
        "// Generated from lapak-server's API types by ts-rs: do not edit.\n\
         // Regenerate: LAPAK_UPDATE_BINDINGS=1 cargo test -p lapak-server admin_bindings\n\n",
    );
    for d in decls {
        out.push_str(&d);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn admin_bindings_are_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(OUT);
    let want = generate();
    if std::env::var_os("LAPAK_UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is not what lapak-server's API types generate: run \
         `LAPAK_UPDATE_BINDINGS=1 cargo test -p lapak-server admin_bindings` and commit it",
        path.display()
    );
}
