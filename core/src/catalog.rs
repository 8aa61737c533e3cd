//! The collections Lapak ships with: what the sync server serves by default and what a client
//! opens its store with, so that both sides declare the same schema.
//!
//! Today this is a starter business (outlet profiles, sales, items, scoped by branch); the POS
//! and field-sales catalogue grows here. Tests keep their own frozen fixtures in `testkit`, so a
//! growing catalogue never changes what they test.

use crate::schema::{Collection, ScalarType, Schema};

/// The shipped schema: `outlets` (documents edited in the field and at the till), `sales` (a
/// ledger of sales with their lines) and `items` (reference data for the whole organisation).
#[must_use]
pub fn starter() -> Schema {
    Schema::builder(1)
        .collection(
            Collection::document("outlets")
                .required("name", ScalarType::Text)
                .text("branch")
                .text("phone")
                .int("credit_limit")
                .real("lat")
                .bool("active")
                .merge_text("notes")
                .list(
                    "lines",
                    &[
                        ("sku", ScalarType::Text),
                        ("qty", ScalarType::Int),
                        ("note", ScalarType::Text),
                    ],
                )
                .index(&["branch", "name"])
                .scope_from_field("branch", "branch"),
        )
        .collection(
            Collection::ledger("sales")
                .required("branch", ScalarType::Text)
                .text("terminal")
                .required("total", ScalarType::Int)
                .timestamp("sold_at")
                .list(
                    "lines",
                    &[
                        ("sku", ScalarType::Text),
                        ("qty", ScalarType::Int),
                        ("price", ScalarType::Int),
                    ],
                )
                .index(&["branch", "sold_at"])
                .scope_from_field("branch", "branch"),
        )
        .collection(
            Collection::reference("items")
                .required("sku", ScalarType::Text)
                .text("name")
                .text("barcode")
                .int("price")
                .text("branch")
                .index(&["barcode"])
                .scope_org(),
        )
        .build()
        .expect("the starter schema is valid")
}

#[cfg(test)]
mod tests {
    #[test]
    fn starter_schema_builds() {
        assert_eq!(super::starter().collections().len(), 3);
    }
}
