//! The outlets of the salesperson's territory (the back office's `customers`), searched and
//! sorted by distance, and each outlet's profile (`outlet_profiles`, keyed by the outlet's
//! code): what the field learns about it. Address and notes merge by character, so the
//! salesperson's edit and the supervisor's made elsewhere both survive.

use lapak_core::field::geo::distance_m;
use lapak_core::{Edit, Query, Record, Row, Scalar, Store, Value};

use crate::photos::PhotoRef;
use crate::rows::{int, item, items, real, some_text, text};
use crate::types::Position;
use crate::{LapakClient, LapakError};

/// An outlet the salesperson may visit.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Outlet {
    /// Its code (the back office's customer code).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its address as the back office has it.
    pub address: String,
    /// Its branch.
    pub branch: String,
    /// Its territory.
    pub territory: String,
    /// Its position, when known.
    pub lat: Option<f64>,
    /// Its position, when known.
    pub lng: Option<f64>,
    /// Metres from the position searched from, when one was given and the outlet has one.
    pub distance_m: Option<f64>,
    /// Its price list (empty: the branch's).
    pub price_list: String,
    /// Its credit limit, when it buys on credit.
    pub credit_limit: Option<i64>,
}

/// What the field keeps about an outlet.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct OutletProfile {
    /// The outlet's code.
    pub outlet: String,
    /// Who to ask for.
    pub contact_name: String,
    /// Their phone.
    pub phone: String,
    /// Where it is, as the field describes it (merges by character).
    pub address: String,
    /// Notes (merge by character).
    pub notes: String,
    /// Where it is, measured.
    pub lat: Option<f64>,
    /// Where it is, measured.
    pub lng: Option<f64>,
    /// Its photos.
    pub photos: Vec<PhotoRef>,
}

/// Changes to a profile; fields left `null` are left alone.
#[derive(Clone, Debug, Default, PartialEq, uniffi::Record)]
pub struct ProfileEdit {
    /// New contact name.
    #[uniffi(default = None)]
    pub contact_name: Option<String>,
    /// New phone.
    #[uniffi(default = None)]
    pub phone: Option<String>,
    /// The address as it should now read (only the characters that changed are written).
    #[uniffi(default = None)]
    pub address: Option<String>,
    /// The notes as they should now read (only the characters that changed are written).
    #[uniffi(default = None)]
    pub notes: Option<String>,
    /// A measured position.
    #[uniffi(default = None)]
    pub position: Option<Position>,
}

fn outlet_of(row: &Row, from: Option<Position>) -> Outlet {
    let (lat, lng) = (real(row, "lat"), real(row, "lng"));
    let distance_m = match (from, lat, lng) {
        (Some(p), Some(lat), Some(lng)) => Some(distance_m(p.lat, p.lng, lat, lng)),
        _ => None,
    };
    Outlet {
        code: row.id.clone(),
        name: text(row, "name"),
        address: text(row, "address"),
        branch: text(row, "branch"),
        territory: text(row, "territory"),
        lat,
        lng,
        distance_m,
        price_list: text(row, "price_list"),
        credit_limit: int(row, "credit_limit"),
    }
}

fn matches(row: &Row, words: &[String]) -> bool {
    let hay = format!("{} {} {}", row.id, text(row, "name"), text(row, "address")).to_lowercase();
    words.iter().all(|w| hay.contains(w.as_str()))
}

fn read_profile(store: &Store, outlet: &str) -> lapak_core::Result<Option<OutletProfile>> {
    let Some(row) = store.get("outlet_profiles", outlet)? else {
        return Ok(None);
    };
    Ok(Some(OutletProfile {
        outlet: row.id.clone(),
        contact_name: text(&row, "contact_name"),
        phone: text(&row, "phone"),
        address: text(&row, "address"),
        notes: text(&row, "notes"),
        lat: real(&row, "lat"),
        lng: real(&row, "lng"),
        photos: crate::photos::refs_of(items(&row, "photos")),
    }))
}

fn customer(store: &Store, outlet: &str) -> Result<Row, LapakError> {
    store.get("customers", outlet)?.ok_or_else(|| {
        LapakError::not_found(format!(
            "outlet `{outlet}` is not on this device: sync, or pick the outlet from the list"
        ))
    })
}

/// The edits of `edit` on an existing profile.
fn profile_edits(edit: ProfileEdit) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut set = |field: &str, value: Value| {
        edits.push(Edit::Set {
            field: field.into(),
            value,
        });
    };
    for (field, v) in [
        ("contact_name", edit.contact_name),
        ("phone", edit.phone),
        ("address", edit.address),
        ("notes", edit.notes),
    ] {
        if let Some(v) = v {
            set(field, Value::Text(v));
        }
    }
    if let Some(p) = edit.position {
        set("lat", Value::Real(p.lat));
        set("lng", Value::Real(p.lng));
    }
    edits
}

/// Creates `outlet`'s profile in the outlet's territory (or, for an outlet of no territory,
/// its branch): the scope its salesperson and their supervisor both write, so a profile made
/// on either phone, even at the same time, is one record they both may edit.
fn create_profile(s: &mut Store, outlet: &str) -> Result<(), LapakError> {
    let c = customer(s, outlet)?;
    let mut fields = Record::new();
    fields.insert("outlet".into(), Value::Text(outlet.to_owned()));
    let scope = ["territory", "branch"]
        .into_iter()
        .find_map(|key| some_text(&c, key).map(|v| (key, v)));
    if let Some((key, value)) = scope {
        fields.insert(key.into(), Value::Text(value));
    }
    s.create_with_id("outlet_profiles", outlet, fields)?;
    Ok(())
}

/// Edits (creating first, when the device has none) `outlet`'s profile.
pub(crate) fn edit_profile(
    s: &mut Store,
    outlet: &str,
    edits: Vec<Edit>,
) -> Result<(), LapakError> {
    if s.get("outlet_profiles", outlet)?.is_none() {
        create_profile(s, outlet)?;
    }
    if !edits.is_empty() {
        s.edit("outlet_profiles", outlet, edits)?;
    }
    Ok(())
}

#[uniffi::export(async_runtime = "tokio")]
impl LapakClient {
    /// Outlets on this device (the territory's), those whose code, name or address hold every
    /// word of `search` (all when empty), nearest to `near` first when given (else by name),
    /// at most `limit`.
    ///
    /// # Errors
    /// `Storage`.
    pub async fn outlets(
        &self,
        search: String,
        near: Option<Position>,
        limit: u32,
    ) -> Result<Vec<Outlet>, LapakError> {
        let words: Vec<String> = search.split_whitespace().map(str::to_lowercase).collect();
        let rows = self.client.query("customers", Query::new()).await?;
        let mut found: Vec<Outlet> = rows
            .iter()
            .filter(|r| matches(r, &words))
            .map(|r| outlet_of(r, near))
            .collect();
        if near.is_some() {
            found.sort_by(|a, b| {
                let d = |o: &Outlet| o.distance_m.unwrap_or(f64::INFINITY);
                d(a).total_cmp(&d(b))
            });
        } else {
            found.sort_by(|a, b| a.name.cmp(&b.name));
        }
        found.truncate(limit as usize);
        Ok(found)
    }

    /// One outlet.
    ///
    /// # Errors
    /// `NotFound` when it is not on this device.
    pub async fn outlet(&self, code: String) -> Result<Outlet, LapakError> {
        self.client
            .with_store(move |s| Ok(customer(s, &code).map(|r| outlet_of(&r, None))))
            .await?
    }

    /// The outlet's profile, or `null` when nobody has made one yet.
    ///
    /// # Errors
    /// `Storage`.
    pub async fn outlet_profile(
        &self,
        outlet: String,
    ) -> Result<Option<OutletProfile>, LapakError> {
        Ok(self
            .client
            .with_store(move |s| read_profile(s, &outlet))
            .await?)
    }

    /// Changes the outlet's profile (making it, in the outlet's branch and territory, when
    /// there is none yet). Address and notes are diffed against what the device holds, so
    /// only the characters typed or removed are written and others' edits survive.
    ///
    /// # Errors
    /// `NotFound` for an outlet not on this device.
    pub async fn edit_outlet_profile(
        &self,
        outlet: String,
        edit: ProfileEdit,
    ) -> Result<OutletProfile, LapakError> {
        self.client
            .write_with(move |s| {
                Ok((|| {
                    edit_profile(s, &outlet, profile_edits(edit))?;
                    read_profile(s, &outlet)?
                        .ok_or_else(|| LapakError::not_found("the profile could not be read back"))
                })())
            })
            .await?
    }

    /// Adds a photo (from `add_photo`) to the outlet's profile.
    ///
    /// # Errors
    /// `NotFound` for an outlet or a photo not on this device.
    pub async fn add_outlet_photo(
        &self,
        outlet: String,
        photo: String,
        caption: String,
    ) -> Result<OutletProfile, LapakError> {
        let photo = self.known_photo(&photo).await?;
        self.client
            .write_with(move |s| {
                Ok((|| {
                    let at = s
                        .get("outlet_profiles", &outlet)?
                        .map_or(0, |r| items(&r, "photos").len());
                    let edit = Edit::InsertItem {
                        field: "photos".into(),
                        index: at,
                        item: item([
                            ("ref", Scalar::Text(photo)),
                            ("taken_at", Scalar::Int(crate::types::now_ms())),
                            ("caption", Scalar::Text(caption)),
                        ]),
                    };
                    edit_profile(s, &outlet, vec![edit])?;
                    read_profile(s, &outlet)?
                        .ok_or_else(|| LapakError::not_found("the profile could not be read back"))
                })())
            })
            .await?
    }
}
