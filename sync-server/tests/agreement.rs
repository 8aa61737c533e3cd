//! The terminal and the server agree on every bill: random carts (prices on several lists and
//! periods, line and bill discounts, vouchers, tax rates, customers with and without their own
//! list, tenders in any order with change) run through the terminal's computation
//! (`lapak_core::commerce`: price in force, `Cart::bill`, `settle`, `invoice::record`) and then
//! through the server's own invoice rule (`lapak_server::rules::business()`), which must accept
//! them without a `price_mismatch`, and move the drawer and the dues by what the terminal says.

use lapak_core::commerce::cart::{Cart, CartLine};
use lapak_core::commerce::invoice::{self, InvoiceHeader};
use lapak_core::commerce::payment::{Payment, settle};
use lapak_core::commerce::price::{self, PriceRow};
use lapak_core::{Record, Value, catalog, record};
use lapak_server::rules::{Facts, RuleVerdict, TallyOp, Write, business};
use proptest::prelude::*;

mod common;

const BRANCH: &str = "JKT-01";
const SOLD_AT: i64 = 1_764_547_200_000;

/// One price row: list index, price, start offset from the sale, optional length.
type PriceSpec = (usize, i64, i64, Option<i64>);

#[derive(Clone, Debug)]
struct Case {
    /// Per SKU: its tax rate and its price rows.
    items: Vec<(i64, Vec<PriceSpec>)>,
    /// Cart lines: item index, quantity, discount as a share of the line (per mille).
    lines: Vec<(usize, i64, i64)>,
    /// Bill discount as a share of what is left (per mille).
    bill_discount_pm: i64,
    voucher: i64,
    /// The customer's list (index), if a customer with one is selected; `Some(None)`: a
    /// customer without a list.
    customer: Option<Option<usize>>,
    /// Tenders: method index and share of what is still due (per mille; cash may go past it).
    tenders: Vec<(usize, i64)>,
}

const LISTS: [&str; 3] = ["retail", "wholesale", "retail-east"];
const METHODS: [&str; 6] = ["cash", "card", "qris", "transfer", "ewallet", "credit"];

fn price_spec() -> impl Strategy<Value = PriceSpec> {
    (
        0..LISTS.len(),
        0_i64..2_000_000,
        -10_000_i64..10_000,
        proptest::option::of(1_i64..20_000),
    )
}

fn case() -> impl Strategy<Value = Case> {
    let items = prop::collection::vec(
        (0_i64..=2_000, prop::collection::vec(price_spec(), 1..5)),
        1..6,
    );
    items.prop_flat_map(|items| {
        let n = items.len();
        (
            Just(items),
            prop::collection::vec((0..n, 1_i64..50, 0_i64..=1_000), 1..8),
            0_i64..=1_000,
            prop_oneof![Just(0_i64), 0_i64..500_000],
            proptest::option::of(proptest::option::of(0..LISTS.len())),
            prop::collection::vec((0..METHODS.len(), 0_i64..=1_500), 0..4),
        )
            .prop_map(
                |(items, lines, bill_discount_pm, voucher, customer, tenders)| Case {
                    items,
                    lines,
                    bill_discount_pm,
                    voucher,
                    customer,
                    tenders,
                },
            )
    })
}

fn sku(i: usize) -> String {
    format!("SKU-{i:06}")
}

/// The price rows of the case as `prices` records, keyed by id.
fn price_rows(case: &Case) -> Vec<(String, Record)> {
    let mut rows = Vec::new();
    for (i, (_, specs)) in case.items.iter().enumerate() {
        // Every item has a price on every list since long before, so most carts are priced;
        // the random rows override it in some periods.
        for list in LISTS {
            let r = record! {
                "price_list" => list, "sku" => sku(i), "price" => 1_000 + i64::try_from(i).unwrap(),
                "effective_from" => SOLD_AT - 86_400_000,
            };
            rows.push((format!("{list}/{}/base", sku(i)), r));
        }
        for (j, (list, price, start, len)) in specs.iter().enumerate() {
            let mut r = record! {
                "price_list" => LISTS[*list], "sku" => sku(i), "price" => *price,
                "effective_from" => SOLD_AT + start,
            };
            if let Some(len) = len {
                r.insert("effective_to".into(), Value::Int(SOLD_AT + start + len));
            }
            rows.push((format!("{}/{}/{j}", LISTS[*list], sku(i)), r));
        }
    }
    rows
}

/// What the terminal does: price each line on the list in force, bill, settle.
fn terminal_invoice(case: &Case, rows: &[(String, Record)]) -> Option<Record> {
    let list = price::list_for(case.customer.flatten().map(|l| LISTS[l]), "retail");
    let price_of = |s: &str| {
        price::in_force(
            rows.iter()
                .filter(|(_, r)| text(r, "price_list") == list && text(r, "sku") == s)
                .map(|(id, r)| PriceRow {
                    id,
                    price: int(r, "price").unwrap_or(0),
                    effective_from: int(r, "effective_from").unwrap_or(0),
                    effective_to: int(r, "effective_to"),
                }),
            SOLD_AT,
        )
    };
    let mut cart = Cart {
        voucher: case.voucher,
        ..Cart::default()
    };
    for (i, qty, discount_pm) in &case.lines {
        let price = price_of(&sku(*i))?;
        cart.lines.push(CartLine {
            sku: sku(*i),
            qty: *qty,
            price,
            discount: qty * price * discount_pm / 1_000,
            tax_rate_bp: case.items[*i].0,
        });
    }
    let net: i64 = cart
        .lines
        .iter()
        .map(|l| l.qty * l.price - l.discount)
        .sum();
    cart.bill_discount = net * case.bill_discount_pm / 1_000;
    let bill = cart.bill().expect("a cart within bounds bills");
    let mut tenders = Vec::new();
    let mut due = bill.total;
    for (m, share) in &case.tenders {
        let method = METHODS[*m];
        if method == "credit" && case.customer.is_none() {
            continue;
        }
        let amount = (due * share / 1_000).max(1);
        if method != "cash" && amount > due {
            continue;
        }
        tenders.push(Payment::new(method, amount));
        due -= amount;
    }
    if due > 0 {
        tenders.push(Payment::new("cash", due + 5_000));
    }
    let settled = settle(bill.total, &tenders).expect("tenders covering the total settle");
    let header = InvoiceHeader {
        number: "JKT-01/POS-1/261201/0001".into(),
        branch: BRANCH.into(),
        terminal: "POS-1".into(),
        shift: "s1".into(),
        cashier: "c-jkt01-1".into(),
        customer: case.customer.map(|_| "OUT-000001".to_owned()),
        sold_at: SOLD_AT,
    };
    let r = invoice::record(&header, &bill, &settled);
    invoice::check(&r).expect("the terminal's own check of its invoice passes");
    Some(r)
}

fn text<'a>(r: &'a Record, k: &str) -> &'a str {
    r.get(k).and_then(Value::as_text).unwrap_or("")
}

fn int(r: &Record, k: &str) -> Option<i64> {
    r.get(k).and_then(Value::as_int)
}

/// What the server loads for the invoice.
fn facts(case: &Case, rows: &[(String, Record)]) -> Facts {
    let mut facts = Facts::new();
    facts.put_row(
        "branches",
        BRANCH,
        Some(record! {"name" => "Jakarta", "price_list" => "retail"}),
    );
    let mut customer =
        record! {"name" => "Toko", "branch" => BRANCH, "credit_limit" => 1_000_000_000};
    if let Some(Some(l)) = case.customer {
        customer.insert("price_list".into(), Value::Text(LISTS[l].into()));
    }
    facts.put_row("customers", "OUT-000001", Some(customer));
    facts.put_row("customers", "", None);
    for (i, (rate, _)) in case.items.iter().enumerate() {
        facts.put_row(
            "items",
            &sku(i),
            Some(record! {"name" => sku(i), "tax_rate_bp" => *rate}),
        );
        for list in LISTS {
            let of: Vec<(String, Record)> = rows
                .iter()
                .filter(|(_, r)| text(r, "price_list") == list && text(r, "sku") == sku(i))
                .cloned()
                .collect();
            facts.put_query(
                "prices",
                vec![("price_list".into(), list.into()), ("sku".into(), sku(i))],
                of,
            );
        }
    }
    facts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_server_accepts_every_bill_the_terminal_computes(case in case()) {
        let rows = price_rows(&case);
        let record = terminal_invoice(&case, &rows).expect("every item has a price in force");
        let schema = catalog::business();
        let collection = schema.collection("sales_invoices").unwrap();
        let who = common::cashier(BRANCH, "c-jkt01-1");
        let write = Write {
            schema: &schema,
            collection,
            record_id: "i1",
            record: &record,
            user: "c-jkt01-1",
            principal: &who,
            device: uuid::Uuid::nil(),
            now_ms: SOLD_AT,
        };
        let (verdict, effects) = business().check(&write, &facts(&case, &rows));
        prop_assert_eq!(&verdict, &RuleVerdict::Accept, "{:?}", record);
        let kinds: Vec<&str> = effects.raised.iter().map(|r| r.kind.as_str()).collect();
        prop_assert!(!kinds.contains(&"price_mismatch"), "{:?} {:?}", effects.raised, record);
        let cash: i64 = invoice::check(&record).unwrap().cash;
        let drawer = effects.tallies.iter().find_map(|t| match t {
            TallyOp::Add(key, delta) if key == "drawer:JKT-01/POS-1" => Some(*delta),
            _ => None,
        });
        prop_assert_eq!(drawer, (cash > 0).then_some(cash));
    }
}
