//! `GET /v1/admin/reports/{kind}`: the admin web's reports over a period, as JSON for its
//! tables and charts or as CSV (`?format=csv`) for a spreadsheet; supervisors get their
//! region's.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::routes::WebAuthed;
use crate::storage::reports::{Report, ReportKind, ReportQuery};

/// The report routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/admin/reports/{kind}", get(report))
}

/// `?from=<ms>&to=<ms>&format=json|csv`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// From (ms since the epoch, included); default the start of the business's day six days
    /// ago (a week with today).
    pub from: Option<i64>,
    /// To (ms, excluded); default now.
    pub to: Option<i64>,
    /// `json` (the default) or `csv`.
    pub format: Option<String>,
}

/// The longest period a report covers: about 13 months.
const MAX_PERIOD_MS: i64 = 400 * 86_400_000;

async fn report(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(kind): Path<String>,
    Query(p): Query<ReportParams>,
) -> Result<Response, ApiError> {
    let visibility = super::admin::require_back_office(&authed)?;
    let kind: ReportKind = serde_json::from_value(serde_json::Value::String(kind.clone()))
        .map_err(|_| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_report",
                format!(
                    "no report `{kind}`: there are sales_by_day, top_items, payments, vouchers, field_activity and stock"
                ),
            )
        })?;
    let now = AppState::now_ms();
    let offset = state.config.utc_offset_seconds;
    let to = p.to.unwrap_or(now + 1);
    let from = p
        .from
        .unwrap_or_else(|| super::admin::day_start(now, offset) - 6 * 86_400_000);
    if from >= to || to - from > MAX_PERIOD_MS {
        return Err(ApiError::bad_request(
            "invalid_period",
            "give `from` before `to` (ms since 1970), at most 400 days apart",
        ));
    }
    let query = ReportQuery {
        kind,
        from,
        to,
        utc_offset_seconds: offset,
        visibility,
    };
    let report = state.storage.report(&query).await?;
    match p.format.as_deref().unwrap_or("json") {
        "json" => Ok(Json(report).into_response()),
        "csv" => Ok(csv_response(&report, offset)),
        other => Err(ApiError::bad_request(
            "invalid",
            format!("format `{other}` is not json or csv"),
        )),
    }
}

/// The report as a CSV file to download: a header of column keys, days as `YYYY-MM-DD`.
fn csv_response(report: &Report, utc_offset_seconds: i32) -> Response {
    let body = to_csv(report, utc_offset_seconds);
    let kind = serde_json::to_value(report.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let name = format!(
        "lapak-{kind}-{}.csv",
        day_text(report.from, utc_offset_seconds)
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The report's rows as CSV text.
#[must_use]
pub fn to_csv(report: &Report, utc_offset_seconds: i32) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(report.columns.iter().map(|c| c.key.as_str()));
    for row in &report.rows {
        let cells = row.iter().zip(&report.columns).map(|(v, c)| match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::Number(n) if c.kind == "day" => n
                .as_i64()
                .map_or_else(String::new, |ms| day_text(ms, utc_offset_seconds)),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let _ = out.write_record(cells);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `2026-12-01`: the business's date of the moment `ms`.
fn day_text(ms: i64, utc_offset_seconds: i32) -> String {
    chrono::DateTime::from_timestamp_millis(ms + i64::from(utc_offset_seconds) * 1000)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::reports::ReportColumn;

    #[test]
    fn a_report_exports_days_as_dates_and_quotes_what_needs_it() {
        let report = Report {
            kind: ReportKind::SalesByDay,
            from: 1_796_058_000_000,
            to: 1_796_144_400_000,
            columns: ["day", "branch", "total"]
                .iter()
                .zip(["day", "text", "money"])
                .map(|(k, kind)| ReportColumn {
                    key: (*k).into(),
                    kind: kind.into(),
                })
                .collect(),
            rows: vec![vec![
                1_796_058_000_000_i64.into(),
                "Jakarta, Pusat".into(),
                150_000.into(),
            ]],
        };
        assert_eq!(
            to_csv(&report, 7 * 3600),
            "day,branch,total\n2026-12-01,\"Jakarta, Pusat\",150000\n"
        );
    }
}
