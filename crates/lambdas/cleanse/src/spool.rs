//! A byte spool for the one-pass mean/median imputation: bytes are appended, held in memory up
//! to a bound, then moved to an unlinked temporary file (Lambda's `/tmp`); read back once or
//! more from the start. Appending past a total size limit fails with [`SpoolFull`] (the caller
//! then falls back to two passes), so neither memory nor disk grows without bound.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};

/// Bytes a spool in file mode buffers before writing them out.
const WRITE_AT: usize = 256 * 1024;

/// The spool went over its size limit.
#[derive(Debug)]
pub(crate) struct SpoolFull;

/// An append-only byte store: memory up to `mem_limit`, then a temporary file.
#[derive(Debug)]
pub(crate) struct Spool {
    buf: Vec<u8>,
    file: Option<File>,
    /// Bytes written to the file so far.
    flushed: u64,
    mem_limit: usize,
    limit: u64,
}

impl Spool {
    /// A spool that keeps up to `mem_limit` bytes in memory and holds at most `limit` in all.
    pub(crate) fn new(mem_limit: usize, limit: u64) -> Self {
        Spool {
            buf: Vec::new(),
            file: None,
            flushed: 0,
            mem_limit,
            limit,
        }
    }

    /// Bytes appended so far.
    #[inline]
    pub(crate) fn len(&self) -> u64 {
        self.flushed + self.buf.len() as u64
    }

    /// Whether the bytes went to a file.
    #[cfg(test)]
    pub(crate) fn on_disk(&self) -> bool {
        self.file.is_some()
    }

    /// Appends `bytes` (an I/O error on the temporary file counts as full: the caller falls back).
    #[inline]
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), SpoolFull> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= WRITE_AT.min(self.mem_limit.max(1)) || self.file.is_some() {
            self.spill()?;
        }
        Ok(())
    }

    #[inline]
    fn spill(&mut self) -> Result<(), SpoolFull> {
        if self.len() > self.limit {
            return Err(SpoolFull);
        }
        if self.file.is_none() {
            if self.buf.len() <= self.mem_limit {
                return Ok(());
            }
            self.file = Some(temp_file().map_err(|_| SpoolFull)?);
        }
        if self.buf.len() >= WRITE_AT || self.buf.len() > self.mem_limit {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> Result<(), SpoolFull> {
        if let Some(f) = &mut self.file {
            f.write_all(&self.buf).map_err(|_| SpoolFull)?;
            self.flushed += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// A reader from the start (call again to read once more).
    pub(crate) fn reader(&mut self) -> io::Result<SpoolReader<'_>> {
        if self.file.is_some() {
            self.write_out()
                .map_err(|_| io::Error::other("cannot write the spool file"))?;
        }
        Ok(match &mut self.file {
            None => SpoolReader::Mem(&self.buf[..]),
            Some(f) => {
                f.seek(SeekFrom::Start(0))?;
                SpoolReader::File(BufReader::with_capacity(WRITE_AT, f))
            }
        })
    }
}

/// Reads a [`Spool`] from the start.
pub(crate) enum SpoolReader<'a> {
    Mem(&'a [u8]),
    File(BufReader<&'a mut File>),
}

impl Read for SpoolReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            SpoolReader::Mem(m) => m.read(out),
            SpoolReader::File(f) => f.read(out),
        }
    }
}

impl BufRead for SpoolReader<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            SpoolReader::Mem(m) => Ok(m),
            SpoolReader::File(f) => f.fill_buf(),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            SpoolReader::Mem(m) => *m = m.get(n..).unwrap_or_default(),
            SpoolReader::File(f) => f.consume(n),
        }
    }
}

impl SpoolReader<'_> {
    /// Skips the next `n` bytes.
    pub(crate) fn skip(&mut self, n: u64) -> io::Result<()> {
        let got = io::copy(&mut self.by_ref().take(n), &mut io::sink())?;
        if got < n {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the spool ended early",
            ));
        }
        Ok(())
    }
}

/// A new temporary file in the system's temporary directory, already unlinked (it disappears
/// with its handle).
fn temp_file() -> io::Result<File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    for _ in 0..16 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "cleanse-spool-{}-{}-{nanos}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => {
                let _ = std::fs::remove_file(&path);
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free temporary file name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn memory_then_file_reads_back_the_same_bytes_twice() {
        for mem in [0usize, 10, 1000, 1 << 20] {
            let data = pattern(700_000);
            let mut s = Spool::new(mem, u64::MAX);
            for piece in data.chunks(333) {
                s.push(piece).unwrap();
            }
            assert_eq!(s.len(), data.len() as u64);
            assert_eq!(s.on_disk(), mem < data.len(), "mem limit {mem}");
            for _ in 0..2 {
                let mut back = vec![0; 100];
                let mut r = s.reader().unwrap();
                r.read_exact(&mut back).unwrap();
                r.skip(50).unwrap();
                // (through the buffer too)
                let got = r.fill_buf().unwrap().len().min(7);
                back.extend_from_slice(&[0; 50]);
                back.extend_from_slice(&r.fill_buf().unwrap()[..got]);
                r.consume(got);
                r.read_to_end(&mut back).unwrap();
                let mut want = data.clone();
                want[100..150].fill(0);
                assert_eq!(back, want, "mem limit {mem}");
            }
        }
    }

    #[test]
    fn small_spools_stay_in_memory() {
        let mut s = Spool::new(1000, u64::MAX);
        s.push(b"hello").unwrap();
        assert!(!s.on_disk());
        let mut back = Vec::new();
        s.reader().unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, b"hello");
        let mut r = s.reader().unwrap();
        assert!(r.read_exact(&mut [0; 6]).is_err(), "reading past the end");
    }

    #[test]
    fn the_size_limit_stops_appending() {
        let mut s = Spool::new(100, 5000);
        let mut full = false;
        for _ in 0..100 {
            if s.push(&[1; 100]).is_err() {
                full = true;
                break;
            }
        }
        assert!(full);
        assert!(s.len() <= 5000 + 100 + WRITE_AT as u64);
    }
}
