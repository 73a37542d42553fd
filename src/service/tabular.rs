//! CSV files, as the CSV import and the postcode directory read them.

use std::io::Read;

use crate::error::{AppError, AppResult};

/// A CSV file's reader (rows may have other lengths than the header: the caller says
/// what that means) and its header row.
pub fn open<R: Read>(
    reader: R,
) -> AppResult<(csv::Reader<std::io::BufReader<R>>, csv::StringRecord)> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 16, reader));
    let header = csv
        .headers()
        .map_err(|e| AppError::invalid("file", format!("not a CSV file: {e}")))?
        .clone();
    Ok((csv, header))
}
