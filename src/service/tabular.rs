//! CSV files, as the CSV import and the postcode directory read them.

use std::io::Read;

use crate::error::{AppError, AppResult};

/// A CSV file's reader (rows may have other lengths than the header: the caller says
/// what that means) and its header row.
/// A reader whose `\r\n` line ends read as `\n`. The CSV reader counts lines by their
/// `\n` and, with Windows line ends, names each row by the line before it; with this,
/// a row is reported by the line a person sees it on, whatever made the file.
pub struct LineFeeds<R> {
    inner: std::io::BufReader<R>,
}

impl<R: Read> Read for LineFeeds<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use std::io::BufRead;
        let mut written = 0;
        while written < out.len() {
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                break;
            }
            if available[0] == b'\r' {
                let Some(next) = available.get(1) else {
                    // a \r at the end of the buffer: look at what follows it first
                    self.inner.consume(1);
                    let lone = self.inner.fill_buf()?.first() != Some(&b'\n');
                    if lone {
                        out[written] = b'\r';
                        written += 1;
                    }
                    continue;
                };
                let lone = *next != b'\n';
                if lone {
                    out[written] = b'\r';
                    written += 1;
                }
                // the \r of a \r\n is dropped; the \n is copied next
                self.inner.consume(1);
                continue;
            }
            // everything up to the next \r, at once
            let span = available
                .iter()
                .position(|b| *b == b'\r')
                .unwrap_or(available.len())
                .min(out.len() - written);
            out[written..written + span].copy_from_slice(&available[..span]);
            written += span;
            self.inner.consume(span);
        }
        Ok(written)
    }
}

pub fn open<R: Read>(reader: R) -> AppResult<(csv::Reader<LineFeeds<R>>, csv::StringRecord)> {
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(LineFeeds {
            inner: std::io::BufReader::with_capacity(1 << 16, reader),
        });
    let header = csv
        .headers()
        .map_err(|e| AppError::invalid("file", format!("not a CSV file: {e}")))?
        .clone();
    Ok((csv, header))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    #[test]
    fn windows_line_ends_read_as_line_feeds() {
        let mut out = String::new();
        let mut reader = super::LineFeeds {
            inner: std::io::BufReader::with_capacity(3, "a,b\r\n1,2\r\nx\ry\r".as_bytes()),
        };
        reader.read_to_string(&mut out).expect("read");
        assert_eq!(out, "a,b\n1,2\nx\ry\r");
    }
}
