//! A demo business, generated from a seed: branches with their POS terminals and cashiers,
//! salespeople with their territories, outlets (the ERP's customers), items with price lists,
//! vouchers, and opening stock. The same seed and sizes always give the same business.
//!
//! `lapak-server demo` seeds it and exits; `lapak-server serve --demo` seeds it on the first
//! start (when the database holds no branch yet) and then serves. Reference rows go through
//! the same back-office write path as the admin API, and opening stock through the same push
//! path (and rules) as a device's, so the demo exercises what production runs.

use std::time::Instant;

use lapak_core::protocol::{Change, ChangeBody, PushRequest};
use lapak_core::{Record, Value};
use uuid::Uuid;

use crate::auth::{Grant, Principal, Role};
use crate::storage::{Accounts, SqlStorage, Storage, StorageError, WriteContext};

/// How big a business to make.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct DemoSize {
    /// The seed: the same seed and sizes give the same business.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Branches (each with its own cashiers, terminals and salespeople).
    #[arg(long, default_value_t = 20)]
    pub branches: u32,
    /// POS terminals in all, spread over the branches (one cashier each).
    #[arg(long, default_value_t = 60)]
    pub terminals: u32,
    /// Salespeople in all, one territory each, spread over the branches.
    #[arg(long, default_value_t = 200)]
    pub salespeople: u32,
    /// Outlets (customers), spread over the territories.
    #[arg(long, default_value_t = 100_000)]
    pub outlets: u32,
    /// Items, each priced on every price list.
    #[arg(long, default_value_t = 20_000)]
    pub items: u32,
    /// Vouchers, spread over the branches.
    #[arg(long, default_value_t = 5_000)]
    pub vouchers: u32,
    /// Items each branch holds opening stock of (received at seeding).
    #[arg(long, default_value_t = 500)]
    pub stocked_items: u32,
}

impl Default for DemoSize {
    fn default() -> Self {
        DemoSize {
            seed: 42,
            branches: 20,
            terminals: 60,
            salespeople: 200,
            outlets: 100_000,
            items: 20_000,
            vouchers: 5_000,
            stocked_items: 500,
        }
    }
}

/// What was seeded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DemoSummary {
    /// Reference rows written.
    pub reference_rows: u64,
    /// Stock receipts recorded.
    pub receipts: u64,
    /// Users created.
    pub users: u64,
    /// A cashier to try (`c-jkt01-1`), their branch and terminal.
    pub sample_cashier: (String, String, String),
    /// A salesperson to try, and their territory.
    pub sample_salesperson: (String, String),
}

/// SplitMix64: small, fast, and the same sequence on every platform and version.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A float in `[0, 1)`.
    #[allow(clippy::cast_precision_loss)]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One of `options`.
    pub fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[usize::try_from(self.below(options.len() as u64)).unwrap_or(0)]
    }

    /// A random (version 4) UUID from this generator.
    pub fn uuid(&mut self) -> Uuid {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        b[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid()
    }
}

/// Cities the branches are in: code, name, latitude, longitude, whether east (the east price
/// list).
const CITIES: &[(&str, &str, f64, f64, bool)] = &[
    ("JKT", "Jakarta", -6.2088, 106.8456, false),
    ("BDG", "Bandung", -6.9175, 107.6191, false),
    ("SBY", "Surabaya", -7.2575, 112.7521, false),
    ("MDN", "Medan", 3.5952, 98.6722, false),
    ("SMG", "Semarang", -6.9667, 110.4167, false),
    ("MKS", "Makassar", -5.1477, 119.4327, true),
    ("PLM", "Palembang", -2.9761, 104.7754, false),
    ("DPS", "Denpasar", -8.6705, 115.2126, false),
    ("YOG", "Yogyakarta", -7.7956, 110.3695, false),
    ("BPN", "Balikpapan", -1.2379, 116.8529, true),
    ("PKU", "Pekanbaru", 0.5071, 101.4478, false),
    ("PDG", "Padang", -0.9471, 100.4172, false),
    ("BJM", "Banjarmasin", -3.3186, 114.5944, true),
    ("PTK", "Pontianak", -0.0263, 109.3425, true),
    ("MND", "Manado", 1.4748, 124.8421, true),
    ("KDI", "Kendari", -3.9985, 122.5130, true),
    ("AMB", "Ambon", -3.6954, 128.1814, true),
    ("JAY", "Jayapura", -2.5337, 140.7181, true),
    ("KPG", "Kupang", -10.1772, 123.6070, true),
    ("BTM", "Batam", 1.0456, 104.0305, false),
];

const CATEGORIES: &[(&str, &[&str], &str)] = &[
    (
        "Beverages",
        &["Tea", "Coffee", "Juice", "Water", "Soda"],
        "bottle",
    ),
    (
        "Snacks",
        &["Chips", "Crackers", "Wafer", "Peanuts", "Biscuits"],
        "pack",
    ),
    (
        "Noodles",
        &["Fried Noodles", "Soup Noodles", "Rice Noodles"],
        "pack",
    ),
    ("Dairy", &["Milk", "Yogurt", "Cheese", "Butter"], "box"),
    (
        "Household",
        &["Detergent", "Dish Soap", "Floor Cleaner", "Tissue"],
        "pcs",
    ),
    (
        "Personal Care",
        &["Shampoo", "Soap", "Toothpaste", "Lotion"],
        "pcs",
    ),
    (
        "Staples",
        &["Rice", "Sugar", "Cooking Oil", "Flour", "Salt"],
        "bag",
    ),
    ("Frozen", &["Nuggets", "Sausages", "Dumplings"], "pack"),
    ("Baby", &["Diapers", "Baby Soap", "Formula"], "pack"),
    ("Tobacco", &["Kretek", "Filter"], "pack"),
];
const BRANDS: &[&str] = &[
    "Sari", "Maju", "Sentosa", "Jaya", "Makmur", "Abadi", "Lestari", "Sehat", "Segar", "Prima",
    "Indah", "Mulia",
];
const SIZES: &[&str] = &[
    "small", "medium", "large", "family", "250 ml", "600 ml", "1 kg",
];
const OUTLET_KINDS: &[&str] = &["Toko", "Warung", "Kios", "Minimarket", "Grosir", "Kedai"];
const NAMES: &[&str] = &[
    "Sumber Rejeki",
    "Berkah",
    "Barokah",
    "Murah",
    "Sinar",
    "Harapan",
    "Mekar",
    "Bahagia",
    "Sejahtera",
    "Mandiri",
    "Pelangi",
    "Bintang",
    "Cahaya",
    "Amanah",
    "Rezeki",
    "Setia",
];
const PEOPLE: &[&str] = &[
    "Budi", "Siti", "Agus", "Dewi", "Rina", "Andi", "Wati", "Joko", "Nur", "Eko", "Putri",
    "Hendra", "Yanti", "Rudi", "Sri", "Bayu",
];
const CAMPAIGNS: &[&str] = &["RAMADAN", "MERDEKA", "PAYDAY", "LOYAL", "LAUNCH"];

/// 2026-01-01T00:00:00Z, when the demo's first prices take effect.
const PRICES_FROM_MS: i64 = 1_767_225_600_000;
/// 2026-11-01T00:00:00Z, when some demo prices change.
const PRICE_CHANGE_MS: i64 = 1_793_491_200_000;
/// 2027-06-30T00:00:00Z, the earliest demo voucher expiry.
const VOUCHERS_EXPIRE_MS: i64 = 1_814_313_600_000;

fn text(v: impl Into<String>) -> Value {
    Value::Text(v.into())
}

/// A branch of the demo: its code and where it is.
#[derive(Clone, Debug)]
struct Branch {
    code: String,
    lat: f64,
    lng: f64,
}

/// A territory: its code, branch and centre.
#[derive(Clone, Debug)]
struct Territory {
    code: String,
    branch: String,
    lat: f64,
    lng: f64,
}

/// Rows of the demo, per collection, as the back office would write them.
type Rows = Vec<(String, Option<Record>)>;

/// Whether the database already holds a business (a branch), so that the demo is not seeded
/// into it.
///
/// # Errors
/// Storage errors.
pub async fn has_business(storage: &SqlStorage) -> Result<bool, StorageError> {
    Ok(storage
        .query_text("SELECT CAST(COUNT(*) AS TEXT) FROM branches")
        .await?
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .is_some_and(|n| n != "0"))
}

/// Seeds the demo business into `storage`, reporting progress through `progress`.
///
/// # Errors
/// [`StorageError::Conflict`] when the database already holds branches (a business); storage
/// errors otherwise (each batch is one transaction, so a failure leaves whole batches).
#[allow(clippy::too_many_lines)]
pub async fn seed(
    storage: &SqlStorage,
    size: &DemoSize,
    password_hash: &str,
    mut progress: impl FnMut(&str),
) -> Result<DemoSummary, StorageError> {
    if has_business(storage).await? {
        return Err(StorageError::Conflict(
            "the database already holds a business (its branches table is not empty): seed the demo into a new database (another --data-dir or --database-url)".into(),
        ));
    }
    let started = Instant::now();
    let mut rng = Rng::new(size.seed);
    let mut summary = DemoSummary::default();
    let n_branches = size.branches.max(1);

    // Branches.
    let mut branches = Vec::new();
    let mut rows: Rows = Vec::new();
    for i in 0..n_branches {
        let (city, name, lat, lng, east) = CITIES[i as usize % CITIES.len()];
        let n = i as usize / CITIES.len() + 1;
        let code = format!("{city}-{n:02}");
        let mut r = Record::new();
        r.insert("name".into(), text(format!("{name} {n:02}")));
        r.insert(
            "price_list".into(),
            text(if east { "retail-east" } else { "retail" }),
        );
        r.insert(
            "address".into(),
            text(format!("Jl. Raya {name} No. {}", 1 + rng.below(200))),
        );
        r.insert("lat".into(), Value::Real(lat));
        r.insert("lng".into(), Value::Real(lng));
        branches.push(Branch {
            code: code.clone(),
            lat,
            lng,
        });
        rows.push((code, Some(r)));
    }
    summary.reference_rows += write(storage, "branches", rows, &mut progress).await?;

    // Territories, one per salesperson, around their branch.
    let mut territories = Vec::new();
    let mut rows: Rows = Vec::new();
    for s in 0..size.salespeople {
        let b = &branches[s as usize % branches.len()];
        let code = format!(
            "T-{}-{:03}",
            b.code.replace('-', ""),
            s as usize / branches.len() + 1
        );
        let lat = b.lat + (rng.unit() - 0.5) * 0.2;
        let lng = b.lng + (rng.unit() - 0.5) * 0.2;
        let mut r = Record::new();
        r.insert("name".into(), text(format!("Territory {code}")));
        r.insert("branch".into(), text(b.code.clone()));
        r.insert("lat".into(), Value::Real(lat));
        r.insert("lng".into(), Value::Real(lng));
        r.insert("radius_m".into(), Value::Int(10_000));
        territories.push(Territory {
            code: code.clone(),
            branch: b.code.clone(),
            lat,
            lng,
        });
        rows.push((code, Some(r)));
    }
    summary.reference_rows += write(storage, "territories", rows, &mut progress).await?;

    // Staff and their accounts: a cashier per terminal, a supervisor per branch, the
    // salespeople.
    let mut staff: Rows = Vec::new();
    let now = crate::app::AppState::now_ms();
    let mut users: Vec<(String, Role, Vec<Grant>)> = Vec::new();
    let grant = |scope: &str, write: bool| Grant {
        scope: scope.to_owned(),
        write,
    };
    for t in 0..size.terminals {
        let b = &branches[t as usize % branches.len()];
        let terminal = format!("POS-{}", t as usize / branches.len() + 1);
        let username = format!(
            "c-{}-{}",
            b.code.to_lowercase().replace('-', ""),
            t as usize / branches.len() + 1
        );
        if t == 0 {
            summary.sample_cashier = (username.clone(), b.code.clone(), terminal.clone());
        }
        users.push((
            username.clone(),
            Role::Cashier,
            vec![
                grant(&format!("branch:{}", b.code), true),
                grant("org", false),
            ],
        ));
        staff.push((
            username,
            Some(staff_row(
                &mut rng,
                "cashier",
                &b.code,
                "",
                &format!("branch:{} (terminal {terminal})", b.code),
            )),
        ));
    }
    for b in &branches {
        let username = format!("sup-{}", b.code.to_lowercase().replace('-', ""));
        let mut grants = vec![
            grant(&format!("branch:{}", b.code), true),
            grant("org", false),
        ];
        grants.extend(
            territories
                .iter()
                .filter(|t| t.branch == b.code)
                .map(|t| grant(&format!("territory:{}", t.code), true)),
        );
        users.push((username.clone(), Role::Supervisor, grants));
        staff.push((
            username,
            Some(staff_row(
                &mut rng,
                "supervisor",
                &b.code,
                "",
                &format!("branch:{} and its territories", b.code),
            )),
        ));
    }
    for (s, t) in territories.iter().enumerate() {
        let username = format!(
            "s-{}",
            t.code
                .trim_start_matches("T-")
                .to_lowercase()
                .replace('-', "")
        );
        if s == 0 {
            summary.sample_salesperson = (username.clone(), t.code.clone());
        }
        users.push((
            username.clone(),
            Role::Salesperson,
            vec![
                grant(&format!("territory:{}", t.code), true),
                grant("org", false),
            ],
        ));
        staff.push((
            username,
            Some(staff_row(
                &mut rng,
                "salesperson",
                &t.branch,
                &t.code,
                &format!("territory:{}", t.code),
            )),
        ));
    }
    summary.reference_rows += write(storage, "staff", staff, &mut progress).await?;
    for (username, role, grants) in &users {
        storage
            .create_user(username, password_hash, *role, grants, now)
            .await?;
    }
    summary.users = users.len() as u64;
    progress(&format!("{} users", users.len()));

    // Items and their prices on every list.
    let mut items: Rows = Vec::new();
    let mut prices: Rows = Vec::new();
    for i in 0..size.items {
        let sku = format!("SKU-{:06}", i + 1);
        let (category, kinds, unit) = CATEGORIES[rng.below(CATEGORIES.len() as u64) as usize];
        let name = format!(
            "{} {} {}",
            rng.pick(BRANDS),
            rng.pick(kinds),
            rng.pick(SIZES)
        );
        let base = 100 * i64::try_from(20 + rng.below(1_500)).unwrap_or(20);
        let mut r = Record::new();
        r.insert("name".into(), text(name));
        r.insert("barcode".into(), text(ean13(&format!("899{:09}", i + 1))));
        r.insert("unit".into(), text(unit));
        r.insert("category".into(), text(category));
        r.insert("tax_rate_bp".into(), Value::Int(1_100));
        r.insert(
            "negative_stock".into(),
            text(if rng.below(10) == 0 {
                "reject"
            } else {
                "allow"
            }),
        );
        items.push((sku.clone(), Some(r)));
        let changes = rng.below(20) == 0;
        for (list, factor) in [("retail", 100), ("retail-east", 108), ("wholesale", 90)] {
            let price = base * factor / 100;
            let mut p = Record::new();
            p.insert("price_list".into(), text(list));
            p.insert("sku".into(), text(sku.clone()));
            p.insert("price".into(), Value::Int(price));
            p.insert("effective_from".into(), Value::Int(PRICES_FROM_MS));
            if changes {
                p.insert("effective_to".into(), Value::Int(PRICE_CHANGE_MS));
                let mut q = p.clone();
                q.remove("effective_to");
                q.insert("effective_from".into(), Value::Int(PRICE_CHANGE_MS));
                q.insert("price".into(), Value::Int(price + price / 10));
                prices.push((format!("{list}/{sku}/2026-11-01"), Some(q)));
            }
            prices.push((format!("{list}/{sku}/2026-01-01"), Some(p)));
        }
    }
    summary.reference_rows += write(storage, "items", items, &mut progress).await?;
    summary.reference_rows += write(storage, "prices", prices, &mut progress).await?;

    // Outlets: the ERP's customers, spread over the territories.
    let mut outlets: Rows = Vec::new();
    for o in 0..size.outlets {
        let t = &territories[o as usize % territories.len().max(1)];
        let wholesale = rng.below(5) == 0;
        let mut r = Record::new();
        r.insert(
            "name".into(),
            text(format!(
                "{} {} {}",
                rng.pick(OUTLET_KINDS),
                rng.pick(NAMES),
                o + 1
            )),
        );
        r.insert(
            "customer_group".into(),
            text(if wholesale { "wholesale" } else { "retail" }),
        );
        if wholesale {
            r.insert("price_list".into(), text("wholesale"));
            r.insert("credit_limit".into(), Value::Int(5_000_000));
        }
        r.insert("branch".into(), text(t.branch.clone()));
        r.insert("territory".into(), text(t.code.clone()));
        r.insert(
            "address".into(),
            text(format!(
                "Jl. {} No. {}",
                rng.pick(NAMES),
                1 + rng.below(300)
            )),
        );
        r.insert("lat".into(), Value::Real(t.lat + (rng.unit() - 0.5) * 0.1));
        r.insert("lng".into(), Value::Real(t.lng + (rng.unit() - 0.5) * 0.1));
        outlets.push((format!("OUT-{:06}", o + 1), Some(r)));
    }
    summary.reference_rows += write(storage, "customers", outlets, &mut progress).await?;

    // Vouchers, each redeemable at one branch.
    let mut vouchers: Rows = Vec::new();
    for v in 0..size.vouchers {
        let b = &branches[rng.below(branches.len() as u64) as usize];
        let campaign = rng.pick(CAMPAIGNS);
        let code = format!("V-{campaign}-{:06X}", rng.below(0x100_0000) ^ u64::from(v));
        let mut r = Record::new();
        r.insert("campaign".into(), text(campaign));
        r.insert(
            "discount".into(),
            Value::Int(5_000 * i64::try_from(1 + rng.below(10)).unwrap_or(1)),
        );
        r.insert(
            "expires_at".into(),
            Value::Int(
                VOUCHERS_EXPIRE_MS + i64::try_from(rng.below(365)).unwrap_or(0) * 86_400_000,
            ),
        );
        r.insert(
            "retailer".into(),
            text(format!(
                "OUT-{:06}",
                1 + rng.below(u64::from(size.outlets.max(1)))
            )),
        );
        r.insert("redeem_at".into(), text(b.code.clone()));
        r.insert("verified".into(), Value::Bool(rng.below(20) != 0));
        vouchers.push((code, Some(r)));
    }
    vouchers.sort_by(|a, b| a.0.cmp(&b.0));
    vouchers.dedup_by(|a, b| a.0 == b.0);
    summary.reference_rows += write(storage, "vouchers", vouchers, &mut progress).await?;

    // Opening stock: a goods receipt per branch for its first items, pushed as the back
    // office's device, through the same rules as any device's push.
    let principal = Principal {
        user_id: "demo".into(),
        username: "admin".into(),
        role: Role::Admin,
        device_id: Uuid::nil(),
        grants: vec![Grant {
            scope: "*".into(),
            write: true,
        }],
    };
    let device = rng.uuid();
    let stocked = size.stocked_items.min(size.items);
    let mut changes = Vec::new();
    for b in &branches {
        for i in 0..stocked {
            let id = rng.uuid();
            let mut r = Record::new();
            r.insert("branch".into(), text(b.code.clone()));
            r.insert("sku".into(), text(format!("SKU-{:06}", i + 1)));
            r.insert("kind".into(), text("receipt"));
            r.insert(
                "qty".into(),
                Value::Int(i64::try_from(20 + rng.below(200)).unwrap_or(20)),
            );
            r.insert("reason".into(), text("opening stock"));
            r.insert("moved_at".into(), Value::Int(PRICES_FROM_MS));
            changes.push(Change {
                change_id: id,
                collection: "stock_movements".into(),
                record_id: id.to_string(),
                body: ChangeBody::Ledger { entry: r },
            });
        }
    }
    for chunk in changes.chunks(2_000) {
        let request = PushRequest {
            device_id: device,
            changes: chunk.to_vec(),
        };
        let ctx = WriteContext {
            now_ms: crate::app::AppState::now_ms(),
            trace_id: "demo".into(),
        };
        let plan = storage.push(&ctx, &principal, &request).await?;
        let (accepted, rejected) = plan.counts();
        if rejected > 0 {
            return Err(StorageError::Corrupt(format!(
                "{rejected} opening stock receipts were rejected"
            )));
        }
        summary.receipts += accepted;
    }
    progress(&format!(
        "{} opening stock receipts; done in {:.1} s",
        summary.receipts,
        started.elapsed().as_secs_f64()
    ));
    Ok(summary)
}

fn staff_row(rng: &mut Rng, role: &str, branch: &str, territory: &str, grants: &str) -> Record {
    let mut r = Record::new();
    r.insert(
        "name".into(),
        text(format!("{} {}", rng.pick(PEOPLE), rng.pick(PEOPLE))),
    );
    r.insert("role".into(), text(role));
    r.insert("branch".into(), text(branch));
    if !territory.is_empty() {
        r.insert("territory".into(), text(territory));
    }
    r.insert("grants".into(), text(grants));
    r
}

/// Twelve digits and their EAN-13 check digit.
fn ean13(digits: &str) -> String {
    let sum: u32 = digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d } else { d * 3 })
        .sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// Writes reference rows in batches (one transaction each).
async fn write(
    storage: &SqlStorage,
    collection: &str,
    rows: Rows,
    progress: &mut impl FnMut(&str),
) -> Result<u64, StorageError> {
    let started = Instant::now();
    let mut written = 0;
    for chunk in rows.chunks(10_000) {
        let ctx = WriteContext {
            now_ms: crate::app::AppState::now_ms(),
            trace_id: "demo".into(),
        };
        written += storage
            .put_reference(&ctx, collection, chunk)
            .await?
            .references
            .len() as u64;
    }
    progress(&format!(
        "{written} {collection} in {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_stable() {
        let mut r = Rng::new(42);
        let first: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut again = Rng::new(42);
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        // SplitMix64's published sequence must never change under us: demo data is compared
        // across versions.
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn ean13_check_digits() {
        assert_eq!(ean13("899100000001"), "8991000000010");
        assert_eq!(ean13("400638133393"), "4006381333931");
    }
}
