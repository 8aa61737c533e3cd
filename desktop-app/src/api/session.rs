//! Signing in, picking the terminal, the language: the app's state.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::*;

/// Where the app stands: what the first screen should be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// No cashier signed in: ask for the server, user name and password.
    SignIn,
    /// Signed in, no terminal picked yet.
    PickTerminal,
    /// Ready to sell (a shift may still need opening).
    Ready,
}

/// `app_state`: no fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct AppStateRequest {}

/// The app's state.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct AppState {
    /// Which screen.
    pub phase: Phase,
    /// The server last used (prefilled on the sign-in screen).
    pub server: Option<String>,
    /// The signed-in cashier.
    pub user: Option<UserView>,
    /// The terminal this app is.
    pub terminal: Option<TerminalView>,
    /// Branches the cashier may sell at (write grants `branch:<code>`), the staff row's first.
    pub branches: Vec<BranchView>,
    /// The interface language.
    pub locale: Locale,
    /// The open shift, if any.
    pub shift: Option<ShiftView>,
}

/// A signed-in user.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct UserView {
    /// Login name (`c-jkt01-1`).
    pub username: String,
    /// Name from the `staff` row, else the login name.
    pub name: String,
    /// `cashier`, `supervisor`, ...
    pub role: String,
}

/// A branch.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct BranchView {
    /// `JKT-01`.
    pub code: String,
    /// `Jakarta Pusat`.
    pub name: String,
}

/// The terminal this app is: a branch and a terminal code.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct TerminalView {
    /// `JKT-01`.
    pub branch: String,
    /// Its name.
    pub branch_name: String,
    /// `POS-1`.
    pub terminal: String,
}

/// `sign_in`: the server's address and the cashier's credentials. Needs the network once;
/// after that the terminal works offline.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SignInRequest {
    /// `http://10.0.0.5:8080`.
    pub server: String,
    /// Login name.
    pub username: String,
    /// Password (never stored).
    pub password: String,
}

/// `pick_terminal`: which terminal of which branch this app is.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct PickTerminalRequest {
    /// One of [`AppState::branches`].
    pub branch: String,
    /// `POS-1` (letters, digits and `-`, at most 20).
    pub terminal: String,
}

/// `sign_out`: no fields. Refused while sales wait to be uploaded.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct SignOutRequest {}

/// `set_locale`.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SetLocaleRequest {
    /// The new language.
    pub locale: Locale,
}
