//! [`PosError`]: what a POS action can fail with, and its [`CommandError`] for the page (a code
//! to branch on and a message for the cashier; never the internals of a failure on this machine).

use lapak_client::ClientError;
use lapak_core::commerce::Refusal;

use crate::api::{CommandError, ErrorCode, Locale};

/// What the cashier reads, in both of the interface's languages (English for logs too).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// English.
    pub en: String,
    /// Bahasa Indonesia.
    pub id: String,
}

impl Message {
    /// The message in English and in Indonesian.
    pub fn new(en: impl Into<String>, id: impl Into<String>) -> Message {
        Message {
            en: en.into(),
            id: id.into(),
        }
    }

    /// The message in `locale`.
    #[must_use]
    pub fn in_locale(&self, locale: Locale) -> &str {
        match locale {
            Locale::En => &self.en,
            Locale::Id => &self.id,
        }
    }
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

/// What a POS action can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PosError {
    /// Refused for a reason the cashier can act on.
    #[error("{message}")]
    Refused {
        /// For the page.
        code: ErrorCode,
        /// For the cashier, in both languages.
        message: Message,
    },
    /// The client (store, server, files) failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] lapak_core::Error),
    /// The terminal's settings file cannot be parsed.
    #[error("{path} is damaged ({detail}): delete it and pick the terminal again")]
    Damaged {
        /// The file.
        path: String,
        /// What the parser said.
        detail: String,
    },
    /// A file of the terminal could not be read or written.
    #[error("{what}: {source}")]
    File {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, PosError>;

impl PosError {
    /// A refusal with `code` and `message`.
    #[must_use]
    pub fn refused(code: ErrorCode, message: Message) -> PosError {
        PosError::Refused { code, message }
    }

    /// A refusal of the shared selling logic, with the code that fits it.
    #[must_use]
    pub fn from_refusal(r: Refusal) -> PosError {
        let code = match r.code {
            "overpaid" | "underpaid" | "invalid_payment" | "payment_mismatch" => ErrorCode::Payment,
            c if c.starts_with("voucher") => ErrorCode::Voucher,
            "return_exceeds_sale" | "refund_exceeds_sale" => ErrorCode::Return,
            _ => ErrorCode::Invalid,
        };
        let id = refusal_in_indonesian(&r);
        PosError::refused(code, Message::new(r.message, id))
    }

    /// What the page gets, in the terminal's language: internals are logged, not shown.
    #[must_use]
    pub fn to_command_error(&self, locale: Locale) -> CommandError {
        let (code, message) = match self {
            PosError::Refused { code, message } => (*code, message.clone()),
            PosError::Client(ClientError::Unauthorized { message, .. }) => (
                ErrorCode::BadCredentials,
                Message::new(
                    message.clone(),
                    "server menolak: nama pengguna atau kata sandi salah, atau perangkat ini dicabut; periksa lalu coba lagi",
                ),
            ),
            PosError::Client(ClientError::Offline { .. }) => (
                ErrorCode::Unreachable,
                Message::new(
                    "the server cannot be reached: check the address and the network, then try again",
                    "server tidak terjangkau: periksa alamatnya dan jaringan, lalu coba lagi",
                ),
            ),
            PosError::Client(ClientError::NotLoggedIn) => (
                ErrorCode::NotSignedIn,
                Message::new(
                    "no cashier is signed in on this terminal",
                    "belum ada kasir yang masuk di terminal ini",
                ),
            ),
            PosError::Client(ClientError::Server { message, .. }) => (
                ErrorCode::Invalid,
                Message::new(message.clone(), format!("server menolak: {message}")),
            ),
            PosError::Store(lapak_core::Error::InvalidValue { field, detail, .. }) => (
                ErrorCode::Invalid,
                Message::new(
                    format!("{field}: {detail}"),
                    format!("isian {field} tidak sah: {detail}"),
                ),
            ),
            other => {
                tracing::error!(error = %other, "a POS action failed");
                (
                    ErrorCode::Internal,
                    Message::new(
                        "this terminal could not save or read its data: check the disk space, restart the app, and call support if it happens again",
                        "terminal ini gagal menyimpan atau membaca datanya: periksa ruang disk, mulai ulang aplikasi, dan hubungi dukungan bila terulang",
                    ),
                )
            }
        };
        CommandError {
            code,
            message: message.in_locale(locale).to_owned(),
        }
    }
}

/// The cashier's words for a refusal of the shared selling logic (its English message names
/// the figures; these say what to do).
fn refusal_in_indonesian(r: &Refusal) -> String {
    match r.code {
        "amount_out_of_range" => "jumlah uang terlalu besar: periksa angka yang diketik".into(),
        "quantity_out_of_range" => "jumlah barang terlalu besar: periksa angka yang diketik".into(),
        "invalid_discount" => {
            "diskon tidak sah: tidak boleh negatif atau melebihi harga baris".into()
        }
        "invalid_line" => {
            "baris tidak sah: setiap barang perlu jumlah di atas nol dan harga yang tidak negatif"
                .into()
        }
        "no_lines" => "tagihan belum berisi barang: pindai barang dulu".into(),
        "invalid_payment" => "pembayaran tidak sah: jumlah harus di atas nol dengan cara bayar yang dikenal, dan uang tunai yang diterima tidak kurang dari yang dibayar tunai".into(),
        "overpaid" => {
            "hanya tunai yang boleh melebihi sisa tagihan (ada kembalian): kurangi pembayaran non-tunai"
                .into()
        }
        "underpaid" => "pembayaran belum menutup total: tambahkan pembayaran".into(),
        "payment_mismatch" => "pembayaran tidak sama dengan total: periksa pembayarannya".into(),
        "total_mismatch" => {
            "total tidak cocok dengan barisnya: buka keranjang lagi lalu ulangi".into()
        }
        "voucher_expired" => "voucher sudah kedaluwarsa: kembalikan ke pelanggan".into(),
        "voucher_not_redeemable_here" => "voucher ini tidak berlaku di cabang ini".into(),
        "voucher_not_verified" => {
            "voucher ini belum diverifikasi kantor pusat: belum bisa dipakai".into()
        }
        _ => format!("ditolak: {}", r.message),
    }
}
