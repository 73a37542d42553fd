//! Postcodes: where a resident's postcode is, for searches from it and for placing a
//! council's CSV rows by their postcode column. The table is loaded from the ONS
//! Postcode Directory (ONSPD, Open Government Licence), streamed, skipping terminated
//! postcodes and those the directory gives no coordinates.

use std::collections::HashMap;
use std::io::Read;

use entity::postcode;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use tokio::sync::mpsc;

use crate::db::Db;
use crate::domain::LonLat;
use crate::error::{AppError, AppResult};

/// A UK postcode as stored: upper case, without spaces (`WN11XX`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Postcode(String);

impl Postcode {
    /// Reads a postcode however it is typed (`wn1 1xx`, `WN11XX`, ` WN1  1XX `): the
    /// shape of a UK postcode (an outward code of 2 to 4 characters, a letter first; an
    /// inward code of a digit and two letters), or `INVALID_INPUT` naming `field`.
    pub fn parse(field: &'static str, text: &str) -> AppResult<Self> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bad = || AppError::invalid(field, format!("{field} is not a UK postcode"));
        if !(5..=7).contains(&compact.len()) || !compact.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(bad());
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        let inward = inward.as_bytes();
        let outward_ok = outward.as_bytes()[0].is_ascii_alphabetic()
            && outward.bytes().any(|b| b.is_ascii_digit());
        let inward_ok = inward[0].is_ascii_digit()
            && inward[1].is_ascii_alphabetic()
            && inward[2].is_ascii_alphabetic();
        if outward_ok && inward_ok {
            Ok(Self(compact))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// As people write it: `WN1 1XX`.
    pub fn display(&self) -> String {
        let (outward, inward) = self.0.split_at(self.0.len() - 3);
        format!("{outward} {inward}")
    }
}

/// Where `postcode` is (its centroid), or `NOT_FOUND` naming `field` when the table
/// does not hold it (unknown, terminated, or the directory not loaded).
pub async fn locate(
    conn: &impl ConnectionTrait,
    field: &'static str,
    postcode: &Postcode,
) -> AppResult<LonLat> {
    let row = postcode::Entity::find_by_id(postcode.as_str().to_owned())
        .one(conn)
        .await?
        .ok_or_else(|| AppError::NotFoundIn {
            message: format!("postcode {} not found", postcode.display()),
            field,
        })?;
    LonLat::new(row.lon, row.lat)
}

/// The centroids of those of `postcodes` the table holds.
pub async fn lookup(
    conn: &impl ConnectionTrait,
    postcodes: &[Postcode],
) -> AppResult<HashMap<Postcode, LonLat>> {
    let mut found = HashMap::new();
    for chunk in postcodes.chunks(500) {
        let rows = postcode::Entity::find()
            .filter(postcode::Column::Postcode.is_in(chunk.iter().map(|p| p.0.clone())))
            .all(conn)
            .await?;
        for row in rows {
            if let Ok(at) = LonLat::new(row.lon, row.lat) {
                found.insert(Postcode(row.postcode), at);
            }
        }
    }
    Ok(found)
}

/// A row of the directory that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenRow {
    /// The line of the file it starts on, from 1 (the header).
    pub line: u64,
    pub reason: String,
}

/// What a postcode import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostcodeReport {
    /// Rows read, header excluded.
    pub rows: u64,
    /// Live postcodes with coordinates, added or updated.
    pub loaded: u64,
    /// Postcodes with a termination date (no longer in use).
    pub terminated: u64,
    /// Postcodes the directory gives no coordinates (ONSPD writes 99.999999).
    pub without_coordinates: u64,
    /// Rows that could not be read, first ones only (see `broken_count`).
    pub broken: Vec<BrokenRow>,
    pub broken_count: u64,
}

/// How many broken rows the report lists one by one.
const REPORTED: usize = 1_000;
/// Rows written per statement.
const BATCH: usize = 1_000;

/// The columns the import reads, found by the header's names.
struct Columns {
    postcode: usize,
    terminated: Option<usize>,
    lat: usize,
    lon: usize,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> AppResult<Self> {
        // the first of `names` the header has, in the order given
        let find = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| header.iter().position(|h| h.trim().eq_ignore_ascii_case(n)))
        };
        let missing =
            |what: &str| AppError::invalid("file", format!("the header has no {what} column"));
        Ok(Self {
            postcode: find(&["pcds", "pcd", "pcd2", "postcode"])
                .ok_or_else(|| missing("postcode (pcds)"))?,
            terminated: find(&["doterm"]),
            lat: find(&["lat", "latitude"]).ok_or_else(|| missing("lat"))?,
            lon: find(&["long", "lon", "longitude"]).ok_or_else(|| missing("long"))?,
        })
    }
}

/// One row's outcome.
enum Row {
    Live(postcode::ActiveModel),
    Terminated,
    WithoutCoordinates,
    Broken(BrokenRow),
}

fn row(columns: &Columns, record: &csv::StringRecord, line: u64) -> Row {
    let broken = |reason: String| Row::Broken(BrokenRow { line, reason });
    let field = |i: usize| record.get(i).map_or("", str::trim);
    let Ok(postcode) = Postcode::parse("postcode", field(columns.postcode)) else {
        return broken(format!(
            "{:?} is not a UK postcode",
            field(columns.postcode).chars().take(20).collect::<String>()
        ));
    };
    if columns.terminated.is_some_and(|i| !field(i).is_empty()) {
        return Row::Terminated;
    }
    let (lat, lon) = (field(columns.lat), field(columns.lon));
    if lat.is_empty() || lon.is_empty() {
        return Row::WithoutCoordinates;
    }
    let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>()) else {
        return broken(format!(
            "{} has coordinates that are not numbers",
            postcode.display()
        ));
    };
    // the directory's mark for "no grid reference" is a latitude of 99.999999
    if lat > 90.0 {
        return Row::WithoutCoordinates;
    }
    match LonLat::new(lon, lat) {
        Ok(at) => Row::Live(postcode::ActiveModel {
            display: Set(postcode.display()),
            postcode: Set(postcode.0),
            lon: Set(at.lon),
            lat: Set(at.lat),
        }),
        Err(e) => broken(format!("{}: {}", postcode.display(), e.message())),
    }
}

/// Reads the file on a blocking thread and sends the live postcodes in batches; the
/// report comes back when the file is read. A file that is not CSV, or has no postcode,
/// lat or long column, is an error and nothing is written.
fn read(
    reader: impl Read + Send + 'static,
    tx: mpsc::Sender<Vec<postcode::ActiveModel>>,
    progress: impl Fn(u64) + Send + 'static,
) -> tokio::task::JoinHandle<AppResult<PostcodeReport>> {
    tokio::task::spawn_blocking(move || {
        let (mut csv, header) = crate::service::tabular::open(reader)?;
        let columns = Columns::of(&header)?;
        let mut report = PostcodeReport::default();
        let mut batch = Vec::with_capacity(BATCH);
        let mut record = csv::StringRecord::new();
        loop {
            // a row's own position is the line it starts on (CRLF files included)
            let before = csv.position().line();
            report.rows += 1;
            let read = csv.read_record(&mut record);
            let line = match &read {
                Ok(_) => record.position().map_or(before, csv::Position::line),
                Err(e) => e.position().map_or(before, csv::Position::line),
            };
            match read {
                Ok(false) => {
                    report.rows -= 1;
                    break;
                }
                Ok(true) if record.len() != header.len() => report.broken_row(BrokenRow {
                    line,
                    reason: format!(
                        "{} fields where the header has {}",
                        record.len(),
                        header.len()
                    ),
                }),
                Ok(true) => report.take(row(&columns, &record, line), &mut batch),
                // a row that is not CSV (bad UTF-8, say): reported, and reading goes on
                // unless the reader cannot find the next row
                Err(e) if e.is_io_error() => {
                    return Err(AppError::invalid("file", format!("reading failed: {e}")));
                }
                Err(e) => report.broken_row(BrokenRow {
                    line,
                    reason: format!("not a CSV row: {e}"),
                }),
            }
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if tx.blocking_send(full).is_err() {
                    // the writer failed; its error is the one to report
                    return Ok(report);
                }
            }
            if report.rows % 10_000 == 0 {
                progress(report.rows);
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
        progress(report.rows);
        Ok(report)
    })
}

impl PostcodeReport {
    /// Counts a broken row, and lists it while the list is short.
    fn broken_row(&mut self, row: BrokenRow) {
        self.broken_count += 1;
        if self.broken.len() < REPORTED {
            self.broken.push(row);
        }
    }

    /// Counts a read row, and puts a live one in the batch.
    fn take(&mut self, row: Row, batch: &mut Vec<postcode::ActiveModel>) {
        match row {
            Row::Live(model) => {
                batch.push(model);
                self.loaded += 1;
            }
            Row::Terminated => self.terminated += 1,
            Row::WithoutCoordinates => self.without_coordinates += 1,
            Row::Broken(b) => self.broken_row(b),
        }
    }
}

/// Loads a postcode directory in ONSPD's CSV format (columns `pcds`, `doterm`, `lat`,
/// `long` among others, found by name), in one transaction: a postcode already held is
/// updated, and a failed load leaves the table as it was.
pub async fn import(
    db: &Db,
    reader: impl Read + Send + 'static,
    progress: impl Fn(u64) + Send + 'static,
) -> AppResult<PostcodeReport> {
    let (tx, mut rx) = mpsc::channel(4);
    let reading = read(reader, tx, progress);
    let txn = db.write.begin().await?;
    let mut written: AppResult<()> = Ok(());
    while let Some(batch) = rx.recv().await {
        let result = postcode::Entity::insert_many(batch)
            .on_conflict(
                OnConflict::column(postcode::Column::Postcode)
                    .update_columns([
                        postcode::Column::Display,
                        postcode::Column::Lon,
                        postcode::Column::Lat,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&txn)
            .await;
        if let Err(e) = result {
            written = Err(e.into());
            break;
        }
    }
    drop(rx);
    let report = reading
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the postcode reader stopped: {e}")))?;
    let report = match (report, written) {
        (Err(e), _) | (Ok(_), Err(e)) => {
            txn.rollback().await?;
            return Err(e);
        }
        (Ok(report), Ok(())) => report,
    };
    txn.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postcode_is_read_however_it_is_typed() {
        for typed in ["WN1 1XX", "wn11xx", " Wn1  1xX ", "WN11XX"] {
            assert_eq!(
                Postcode::parse("postcode", typed).unwrap().as_str(),
                "WN11XX"
            );
        }
        assert_eq!(Postcode::parse("p", "m1 1ae").unwrap().display(), "M1 1AE");
        assert_eq!(
            Postcode::parse("p", "EC1A1BB").unwrap().display(),
            "EC1A 1BB"
        );
        for bad in [
            "", "WN1", "WN1 1X1", "1N1 1XX", "WN1-1XX", "ABCDEFGH", "WN 1XX",
        ] {
            let err = Postcode::parse("postcode", bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT", "{bad:?}");
        }
    }

    #[test]
    fn rows_are_sorted_into_live_terminated_without_coordinates_and_broken() {
        let header = csv::StringRecord::from(vec!["pcd", "pcds", "doterm", "lat", "long"]);
        let columns = Columns::of(&header).unwrap();
        let live = csv::StringRecord::from(vec!["WN1 1XX", "WN1 1XX", "", "53.545", "-2.632"]);
        assert!(matches!(row(&columns, &live, 2), Row::Live(_)));
        let gone = csv::StringRecord::from(vec!["WN1 1AA", "WN1 1AA", "200012", "53.5", "-2.6"]);
        assert!(matches!(row(&columns, &gone, 3), Row::Terminated));
        let nowhere =
            csv::StringRecord::from(vec!["WN1 1AB", "WN1 1AB", "", "99.999999", "0.000000"]);
        assert!(matches!(
            row(&columns, &nowhere, 4),
            Row::WithoutCoordinates
        ));
        let text = csv::StringRecord::from(vec!["WN1 1AC", "WN1 1AC", "", "north", "-2.6"]);
        assert!(matches!(
            row(&columns, &text, 5),
            Row::Broken(BrokenRow { line: 5, .. })
        ));
        let junk = csv::StringRecord::from(vec!["x", "not a postcode", "", "53.5", "-2.6"]);
        assert!(matches!(row(&columns, &junk, 6), Row::Broken(_)));
        let no_lat = csv::StringRecord::from(vec!["pcds", "long"]);
        assert_eq!(
            Columns::of(&no_lat).err().map(|e| e.code()),
            Some("INVALID_INPUT")
        );
    }
}
