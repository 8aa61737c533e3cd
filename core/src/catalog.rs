//! The collections Lapak ships with: what the sync server serves by default and what a client
//! opens its store with, so that both sides declare the same schema.
//!
//! [`business`] is the POS and field-sales business the server serves by default; [`starter`]
//! is the small three-collection schema the engine's tests and benchmarks use. Tests keep their own frozen fixtures in `testkit`, so a
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

/// The version of [`business`]'s declaration (bump it with every change to its collections).
pub const BUSINESS_VERSION: u32 = 6;

/// The POS and field-sales business Lapak serves by default: reference data mastered by the
/// back office, documents edited in the field and at the till, and ledgers of facts judged by
/// the server's rules. `docs/domain.md` describes every collection, field and rule.
///
/// Money is in minor units (`Int`), tax rates in basis points, times in milliseconds since the
/// epoch, positions in degrees. Branch-scoped records go to `branch:<code>`, field records to
/// `territory:<code>`, master data everyone needs to `org`.
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn business() -> Schema {
    use ScalarType::{Bool, Int, Text, Timestamp};
    Schema::builder(BUSINESS_VERSION)
        // ---- reference data (written by the back office, read-only on devices) ----
        .collection(
            Collection::reference("branches")
                .required("name", Text)
                .text("price_list")
                .text("address")
                .real("lat")
                .real("lng")
                .scope_org(),
        )
        .collection(
            Collection::reference("territories")
                .required("name", Text)
                .required("branch", Text)
                .real("lat")
                .real("lng")
                .int("radius_m")
                .index(&["branch"])
                .scope_org(),
        )
        .collection(
            Collection::reference("staff")
                .required("name", Text)
                .required("role", Text)
                .text("branch")
                .text("territory")
                .text("grants")
                .index(&["branch"])
                .scope_org(),
        )
        .collection(
            Collection::reference("items")
                .required("name", Text)
                .text("barcode")
                .text("unit")
                .text("category")
                .int("tax_rate_bp")
                .text("negative_stock")
                .index(&["barcode"])
                .index(&["category"])
                .scope_org(),
        )
        .collection(
            Collection::reference("prices")
                .required("price_list", Text)
                .required("sku", Text)
                .required("price", Int)
                .required("effective_from", Timestamp)
                .timestamp("effective_to")
                .index(&["price_list", "sku"])
                .scope_org(),
        )
        .collection(
            Collection::reference("customers")
                .required("name", Text)
                .text("customer_group")
                .text("price_list")
                .required("branch", Text)
                .text("territory")
                .text("address")
                .real("lat")
                .real("lng")
                .int("credit_limit")
                .index(&["territory", "name"])
                .scope_from_field("branch", "branch")
                .scope_from_field("territory", "territory"),
        )
        .collection(
            Collection::reference("vouchers")
                .required("campaign", Text)
                .required("discount", Int)
                .required("expires_at", Timestamp)
                .text("retailer")
                .required("redeem_at", Text)
                .bool("verified")
                .scope_from_field("redeem_at", "branch"),
        )
        // ---- derived by the server from accepted facts (read-only everywhere) ----
        .collection(
            // One row per branch and item, id `<branch>/<sku>`: the `stock:` tally.
            Collection::reference("stock_levels")
                .required("branch", Text)
                .required("sku", Text)
                .required("qty", Int)
                .scope_from_field("branch", "branch")
                .derived(),
        )
        .collection(
            // One row per customer, id its code: the `due:` tally, where the customer is.
            Collection::reference("customer_dues")
                .required("customer", Text)
                .required("branch", Text)
                .text("territory")
                .required("due", Int)
                .scope_from_field("branch", "branch")
                .scope_from_field("territory", "territory")
                .derived(),
        )
        // ---- documents (edited concurrently, merged field by field) ----
        .collection(
            Collection::document("outlet_profiles")
                .required("outlet", Text)
                .text("branch")
                .text("territory")
                .text("contact_name")
                .text("phone")
                .merge_text("address")
                .real("lat")
                .real("lng")
                .merge_text("notes")
                .photos("photos")
                .index(&["territory", "outlet"])
                .scope_from_field("branch", "branch")
                .scope_from_field("territory", "territory"),
        )
        .collection(
            Collection::document("call_plans")
                .required("salesperson", Text)
                .required("territory", Text)
                .required("day", Timestamp)
                .list(
                    "visits",
                    &[
                        ("outlet", Text),
                        ("seq", Int),
                        ("done", Bool),
                        ("note", Text),
                    ],
                )
                .index(&["salesperson", "day"])
                .scope_from_field("territory", "territory"),
        )
        .collection(
            Collection::document("held_bills")
                .required("branch", Text)
                .text("terminal")
                .text("cashier")
                .text("customer")
                .merge_text("note")
                .list(
                    "lines",
                    &[
                        ("sku", Text),
                        ("qty", Int),
                        ("price", Int),
                        ("discount", Int),
                    ],
                )
                .index(&["branch"])
                .scope_from_field("branch", "branch"),
        )
        .collection(
            Collection::document("draft_orders")
                .required("territory", Text)
                .required("outlet", Text)
                .text("salesperson")
                .merge_text("notes")
                .list("lines", &[("sku", Text), ("qty", Int), ("price", Int)])
                .index(&["territory", "outlet"])
                .scope_from_field("territory", "territory"),
        )
        .collection(
            Collection::document("surveys")
                .required("territory", Text)
                .required("outlet", Text)
                .required("form", Text)
                .text("salesperson")
                .list("answers", &[("question", Text), ("answer", Text)])
                .index(&["territory", "outlet"])
                .scope_from_field("territory", "territory"),
        )
        // ---- ledgers (facts written once on a device, judged by the server) ----
        .collection(
            Collection::ledger("sales_invoices")
                .text("number")
                .required("branch", Text)
                .text("terminal")
                .text("shift")
                .text("cashier")
                .text("customer")
                .required("sold_at", Timestamp)
                .required("total", Int)
                .int("cash_tendered")
                .list(
                    "lines",
                    &[
                        ("sku", Text),
                        ("qty", Int),
                        ("price", Int),
                        ("discount", Int),
                        ("tax", Int),
                    ],
                )
                .list("payments", &[("method", Text), ("amount", Int)])
                .index(&["branch", "sold_at"])
                .index(&["customer"])
                .index(&["number"])
                .scope_from_field("branch", "branch"),
        )
        .collection(
            Collection::ledger("sales_returns")
                .required("branch", Text)
                .required("invoice", Text)
                .text("terminal")
                .text("shift")
                .text("cashier")
                .required("returned_at", Timestamp)
                .text("reason")
                .required("refund", Int)
                .list("lines", &[("sku", Text), ("qty", Int), ("price", Int)])
                .index(&["invoice"])
                .scope_from_field("branch", "branch"),
        )
        .collection(
            Collection::ledger("credit_payments")
                .required("branch", Text)
                .required("customer", Text)
                .text("invoice")
                .required("amount", Int)
                .text("method")
                .required("paid_at", Timestamp)
                .text("collected_by")
                .index(&["customer"])
                .scope_from_field("branch", "branch"),
        )
        .collection(
            Collection::ledger("stock_movements")
                .required("branch", Text)
                .required("sku", Text)
                .required("kind", Text)
                .required("qty", Int)
                .text("transfer")
                .text("counterpart")
                .text("reason")
                .required("moved_at", Timestamp)
                .index(&["branch", "sku"])
                .scope_from_field("branch", "branch"),
        )
        .collection(
            Collection::ledger("voucher_redemptions")
                .required("voucher", Text)
                .required("branch", Text)
                .text("terminal")
                .text("cashier")
                .text("invoice")
                .required("redeemed_at", Timestamp)
                .index(&["voucher"])
                .scope_from_field("branch", "branch"),
        )
        .collection(
            Collection::ledger("attendance")
                .required("user", Text)
                .required("territory", Text)
                .required("kind", Text)
                .required("at", Timestamp)
                .real("lat")
                .real("lng")
                .real("accuracy_m")
                .text("outlet")
                .photos("photos")
                .index(&["user", "at"])
                .scope_from_field("territory", "territory"),
        )
        .collection(
            Collection::ledger("activities")
                .required("salesperson", Text)
                .required("territory", Text)
                .required("kind", Text)
                .text("outlet")
                .text("program")
                .required("at", Timestamp)
                .real("lat")
                .real("lng")
                .text("notes")
                .list("lines", &[("sku", Text), ("qty", Int), ("amount", Int)])
                .photos("photos")
                .index(&["territory", "at"])
                .scope_from_field("territory", "territory"),
        )
        .collection(
            Collection::ledger("order_submissions")
                .required("territory", Text)
                .required("outlet", Text)
                .text("salesperson")
                .text("draft")
                .required("submitted_at", Timestamp)
                .required("total", Int)
                .list("lines", &[("sku", Text), ("qty", Int), ("price", Int)])
                .index(&["territory", "submitted_at"])
                .scope_from_field("territory", "territory"),
        )
        .collection(
            Collection::ledger("shifts")
                .required("branch", Text)
                .required("terminal", Text)
                .text("cashier")
                .required("kind", Text)
                .required("at", Timestamp)
                .int("opening_cash")
                .int("counted_cash")
                .index(&["branch", "terminal", "at"])
                .scope_from_field("branch", "branch"),
        )
        .build()
        .expect("the business schema is valid")
}

#[cfg(test)]
mod tests {
    use crate::schema::{FieldType, ScalarType};

    fn scalar(t: ScalarType) -> &'static str {
        match t {
            ScalarType::Text => "text",
            ScalarType::Int => "int",
            ScalarType::Real => "real",
            ScalarType::Bool => "bool",
            ScalarType::Timestamp => "timestamp",
        }
    }

    /// A collection's row of the field-type table of `docs/domain.md`.
    fn type_row(c: &crate::schema::Collection) -> String {
        let fields: Vec<String> = c
            .fields()
            .iter()
            .map(|f| {
                let ty = match &f.ty {
                    FieldType::Scalar(t) => scalar(*t).to_owned(),
                    FieldType::MergeText => "merge text".to_owned(),
                    FieldType::List(keys) => format!(
                        "list of ({})",
                        keys.iter()
                            .map(|(k, t)| format!("`{k}`: {}", scalar(*t)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let star = if f.required { "*" } else { "" };
                format!("`{}`{star}: {ty}", f.name)
            })
            .collect();
        format!("| `{}` | {} |", c.name(), fields.join(", "))
    }

    /// `docs/domain.md` gives the type of every field of every collection of the business, as
    /// declared here: another team can build a client from it.
    #[test]
    fn domain_doc_types_every_business_field() {
        let doc = include_str!("../../docs/domain.md");
        let missing: Vec<String> = super::business()
            .collections()
            .iter()
            .map(type_row)
            .filter(|row| !doc.lines().any(|l| l == row))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/domain.md lacks these rows of its field-type table:\n{}",
            missing.join("\n")
        );
    }
    #[test]
    fn starter_schema_builds() {
        assert_eq!(super::starter().collections().len(), 3);
    }

    #[test]
    fn business_schema_builds() {
        let s = super::business();
        assert_eq!(s.version(), super::BUSINESS_VERSION);
        assert!(s.collection("sales_invoices").is_ok());
        let derived: Vec<&str> = s
            .collections()
            .iter()
            .filter(|c| c.is_derived())
            .map(crate::schema::Collection::name)
            .collect();
        assert_eq!(derived, ["stock_levels", "customer_dues"]);
    }
}
