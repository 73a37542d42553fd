//! Integer conversions whose safety is shown once, here, instead of a silent fallback
//! (`try_from(..).unwrap_or(0)`) at each use: a conversion either cannot fail, for the
//! reason its doc gives, or is an error the caller handles.

use crate::error::{AppError, AppResult};

// usize is never wider than 64 bits here, so a length always fits in a u64
const _: () = assert!(usize::BITS <= u64::BITS);

/// A length or count as a u64: always exact (see the assertion above).
pub fn to_u64(n: usize) -> u64 {
    n as u64
}

/// A u64 the caller has bounded (a page size, a search's limit) as a usize; on a 32-bit
/// target a value past `usize::MAX` would mean "as many as there are", so it saturates.
pub fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A SQLite row number as the in-memory index's 32-bit sequence number, or an error
/// saying the table outgrew it.
pub fn sequence(rowid: i64) -> AppResult<u32> {
    u32::try_from(rowid).map_err(|_| {
        AppError::Internal(anyhow::anyhow!(
            "row number {rowid} is beyond the search index's 32-bit sequence numbers"
        ))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_row_number_past_32_bits_is_an_error_not_zero() {
        assert_eq!(super::sequence(7).ok(), Some(7));
        assert!(super::sequence(i64::from(u32::MAX) + 1).is_err());
        assert!(super::sequence(-1).is_err());
    }
}
