// Generated from lapak-server's API types by ts-rs: do not edit.
// Regenerate: LAPAK_UPDATE_BINDINGS=1 cargo test -p lapak-server admin_bindings

/**
 * A user's role. Roles say what kind of work a user does; grants say where.
 */
export type Role = "cashier" | "salesperson" | "supervisor" | "admin";

/**
 * One scope a user may read, and maybe write.
 */
export type Grant = { 
/**
 * The scope (`branch:JKT-01`, `territory:T-7`, `org`), or `*` for every scope.
 */
scope: string, 
/**
 * Whether the user may also write records of this scope.
 */
write: boolean, };

/**
 * A browser's sign-in.
 */
export type SignIn = { 
/**
 * Login name.
 */
username: string, 
/**
 * Password.
 */
password: string, };

/**
 * Who is signed in, as the page sees it (no token: those stay in cookies).
 */
export type WebSession = { 
/**
 * The user's login name.
 */
username: string, 
/**
 * The user's role (`admin` or `supervisor`).
 */
role: Role, 
/**
 * What the user may see: a supervisor's regions.
 */
grants: Array<Grant>, 
/**
 * Send this as `X-Lapak-CSRF` with every request that changes state.
 */
csrf_token: string, 
/**
 * Seconds until the access cookie must be refreshed.
 */
expires_in: number, };

/**
 * The sales of one branch over a period.
 */
export type BranchSales = { 
/**
 * Branch code.
 */
branch: string, 
/**
 * Branch name (the code when the branch is not in master data).
 */
name: string, 
/**
 * Invoices.
 */
invoices: number, 
/**
 * Their total, rupiah.
 */
total: number, };

/**
 * Devices at a glance.
 */
export type DeviceCounts = { 
/**
 * Devices not revoked.
 */
active: number, 
/**
 * Of those, seen in the last five minutes.
 */
online: number, 
/**
 * Of those, not seen for more than a day.
 */
silent: number, };

/**
 * The day at a glance: the admin web's first page.
 */
export type Today = { 
/**
 * When the business's day began, ms since the epoch.
 */
day_started_at: number, 
/**
 * Sales since then, by branch.
 */
sales: Array<BranchSales>, 
/**
 * Devices.
 */
devices: DeviceCounts, 
/**
 * Exceptions not yet resolved.
 */
open_exceptions: number, 
/**
 * Changes rejected in the last 24 hours.
 */
rejections_last_day: number, 
/**
 * Outbox events not yet published to the brokers (administrators only).
 */
outbox_backlog: number | null, };

/**
 * A user as the admin API shows it.
 */
export type UserInfo = { 
/**
 * Id.
 */
id: string, 
/**
 * Login name.
 */
username: string, 
/**
 * Role.
 */
role: Role, 
/**
 * Grants.
 */
grants: Array<Grant>, 
/**
 * Whether the user is disabled.
 */
disabled: boolean, };

/**
 * A new user.
 */
export type NewUser = { 
/**
 * Login name.
 */
username: string, 
/**
 * Password (at least 8 characters).
 */
password: string, 
/**
 * Role.
 */
role: Role, 
/**
 * Grants.
 */
grants: Array<Grant>, };

/**
 * One page of a listing, and how many rows match in all.
 */
export type Page<T> = { 
/**
 * The rows of this page.
 */
rows: Array<T>, 
/**
 * Rows matching the filter, over every page.
 */
total: number, };

/**
 * A device as the admin web lists it.
 */
export type DeviceRow = { 
/**
 * Device id.
 */
id: string, 
/**
 * Owner's login name.
 */
username: string, 
/**
 * Name given at login (`POS 2, Jakarta 01`).
 */
name: string, 
/**
 * The app and version it reported at its last login (`lapak-pos/0.1.0`).
 */
app_version: string | null, 
/**
 * When it first logged in (ms since the epoch).
 */
registered_at: number, 
/**
 * Its last request (ms).
 */
last_seen_at: number | null, 
/**
 * Its last pull (ms).
 */
pulled_at: number | null, 
/**
 * Changes in its scopes it has not pulled yet ([`BEHIND_CAP`] per scope at most); `None`
 * before its first pull.
 */
behind: number | null, 
/**
 * When an administrator revoked it.
 */
revoked_at: number | null, };

/**
 * A change the server rejected.
 */
export type Rejection = { 
/**
 * The change's id (the device's, unique).
 */
change_id: string, 
/**
 * When it was received (ms).
 */
received_at: number, 
/**
 * The device that sent it.
 */
device_id: string, 
/**
 * Its name.
 */
device_name: string, 
/**
 * Its owner.
 */
username: string, 
/**
 * The record's collection.
 */
collection: string, 
/**
 * The record.
 */
record_id: string, 
/**
 * Why (`invalid`, `forbidden`, a business rule's code).
 */
code: string, 
/**
 * What the device showed its user.
 */
message: string, };

/**
 * A stored exception.
 */
export type ExceptionRecord = { 
/**
 * Its id.
 */
id: string, 
/**
 * `price_mismatch`, `negative_stock`, ...
 */
kind: string, 
/**
 * The record's collection.
 */
collection: string, 
/**
 * The record.
 */
record_id: string, 
/**
 * The record's scopes.
 */
scopes: Array<string>, 
/**
 * What happened.
 */
message: string, 
/**
 * Particulars.
 */
details: unknown, 
/**
 * The position of the record's change.
 */
position: number, 
/**
 * When it was raised (ms).
 */
raised_at: number, 
/**
 * When it was resolved (ms), if it was.
 */
resolved_at: number | null, 
/**
 * Who resolved it.
 */
resolved_by: string | null, 
/**
 * What they noted.
 */
resolution: string | null, };

/**
 * A field's type as the admin web edits it.
 */
export type FieldKind = "text" | "int" | "real" | "bool" | "timestamp";

/**
 * One field of a master-data collection.
 */
export type DataField = { 
/**
 * Its name (the CSV column, the JSON key).
 */
name: string, 
/**
 * Its type.
 */
kind: FieldKind, 
/**
 * Whether every row must have it.
 */
required: boolean, };

/**
 * A master-data collection: what its rows hold and how many there are.
 */
export type DataCollection = { 
/**
 * Its name (`items`).
 */
name: string, 
/**
 * Its fields, in order (the row id comes first, as `id`).
 */
fields: Array<DataField>, 
/**
 * Rows the server derives (stock levels, dues): read-only.
 */
derived: boolean, 
/**
 * Rows it holds.
 */
rows: number, };

/**
 * One row: its id and its fields (JSON in the shape of `PUT /v1/admin/reference`).
 */
export type DataRow = { 
/**
 * The row's id.
 */
id: string, 
/**
 * Its fields; a field without a value is `null`.
 */
fields: Record<string, string | number | boolean | null>, };

/**
 * What is wrong with one row of the file.
 */
export type RowError = { 
/**
 * The line of the file (the header is line 1).
 */
line: number, 
/**
 * The row's id, when it has one.
 */
id: string, 
/**
 * What is wrong, and what to write instead.
 */
message: string, };

/**
 * The outcome of reading and checking a file, before anything is written.
 */
export type ImportCheck = { 
/**
 * The collection.
 */
collection: string, 
/**
 * The file's columns, in order.
 */
columns: Array<string>, 
/**
 * Its rows (not counting the header).
 */
rows: number, 
/**
 * Rows with errors, in all.
 */
error_count: number, 
/**
 * The first of them.
 */
errors: Array<RowError>, 
/**
 * The first rows as they would be written.
 */
preview: Array<DataRow>, };

/**
 * Where an import job stands.
 */
export type ImportProgress = { 
/**
 * The job's id.
 */
id: string, 
/**
 * The collection.
 */
collection: string, 
/**
 * Rows to write.
 */
total: number, 
/**
 * Rows written so far.
 */
written: number, 
/**
 * Whether the job has ended (written everything, or failed).
 */
done: boolean, 
/**
 * Why it stopped early: the rows before `written` are in; import the file again.
 */
error: string | null, 
/**
 * When it started (ms).
 */
started_at: number, };

/**
 * The reports there are.
 */
export type ReportKind = "sales_by_day" | "top_items" | "payments" | "vouchers" | "field_activity" | "stock";

/**
 * A report's column.
 */
export type ReportColumn = { 
/**
 * Its key (`branch`, `total`).
 */
key: string, 
/**
 * What its cells hold: `text`, `count`, `money`, `qty` or `day` (ms of the day's start).
 */
kind: string, };

/**
 * A report's answer: named columns and rows of cells, ready for a table, a chart and CSV.
 */
export type Report = { 
/**
 * Which report.
 */
kind: ReportKind, 
/**
 * Its period, ms since the epoch (`to` excluded).
 */
from: number, 
/**
 * The end of the period.
 */
to: number, 
/**
 * The columns, in order.
 */
columns: Array<ReportColumn>, 
/**
 * The rows.
 */
rows: Array<Array<string | number | null>>, };

/**
 * A record's photo, with whether its bytes have arrived.
 */
export type ListedPhoto = { 
/**
 * The list field it is in (`photos`).
 */
field: string, 
/**
 * Its reference, `sha256:<hex>`.
 */
ref: string, 
/**
 * When it was taken, ms since the epoch.
 */
taken_at: number | null, 
/**
 * Its caption.
 */
caption: string | null, 
/**
 * The photo's bytes are stored (uploaded).
 */
stored: boolean, 
/**
 * Where to fetch it.
 */
url: string, };

/**
 * A record's photos.
 */
export type RecordPhotos = { 
/**
 * The record's collection.
 */
collection: string, 
/**
 * The record.
 */
id: string, 
/**
 * Its photos, in list order.
 */
photos: Array<ListedPhoto>, };
