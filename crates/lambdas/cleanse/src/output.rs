//! Output writers: CSV (RFC 4180 quoting), JSON Lines, SageMaker CSV, and the rejects object.

use std::io::{self, Write};

/// Appends a CSV field, quoted (with doubled quotes) when it holds the delimiter, a quote, CR or LF
/// (RFC 4180).
#[inline]
pub fn write_csv_field(out: &mut Vec<u8>, bytes: &[u8], delimiter: u8) {
    if needs_quotes(bytes, delimiter) {
        out.push(b'"');
        for &b in bytes {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(bytes);
    }
}

/// Whether a CSV field holds the delimiter, a quote, CR or LF: eight bytes at a time (an exact
/// zero-byte test per wanted byte), the tail byte by byte.
#[inline]
pub(crate) fn needs_quotes(bytes: &[u8], delimiter: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // (v - 1s) & !v & high is non-zero exactly when some byte of v is zero
    let has = |v: u64, b: u8| {
        let x = v ^ (ONES * b as u64);
        x.wrapping_sub(ONES) & !x & HIGH != 0
    };
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_le_bytes(w.try_into().unwrap_or_default());
        if has(v, delimiter) | has(v, b'"') | has(v, b'\n') | has(v, b'\r') {
            return true;
        }
    }
    // '"', LF and CR are all at most b'"' (0x22): most bytes are ruled out by one comparison
    words
        .remainder()
        .iter()
        .any(|&b| b == delimiter || (b <= b'"' && (b == b'"' || b == b'\n' || b == b'\r')))
}

/// Appends `s` as a JSON string literal (with quotes).
pub fn write_json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// A buffered sink that counts bytes and flushes in large writes.
pub struct Sink<W: Write> {
    inner: W,
    /// The pending bytes (append here, then call [`Sink::maybe_flush`]).
    pub buf: Vec<u8>,
    written: u64,
}

/// The buffered bytes at which a [`Sink`] writes them out.
pub const FLUSH_AT: usize = 256 * 1024;

impl<W: Write> Sink<W> {
    /// A sink over `inner`.
    pub fn new(inner: W) -> Self {
        Sink {
            inner,
            buf: Vec::with_capacity(FLUSH_AT + 64 * 1024),
            written: 0,
        }
    }

    /// Writes the buffer out when it is large.
    #[inline]
    pub fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_AT {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn flush_buf(&mut self) -> io::Result<()> {
        self.inner.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Writes the pending bytes, then `bytes` straight to the inner writer (large pieces: no
    /// copy into the buffer).
    pub fn write_direct(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.flush_buf()?;
        self.inner.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Writes everything and flushes the inner writer; returns the total bytes written.
    pub fn finish(mut self) -> io::Result<(u64, W)> {
        self.flush_buf()?;
        self.inner.flush()?;
        Ok((self.written, self.inner))
    }

    /// Bytes written so far, pending ones included.
    pub fn bytes(&self) -> u64 {
        self.written + self.buf.len() as u64
    }
}

/// A local output file written all or nothing: bytes go to a temporary file beside it
/// (`.NAME.PID-N.tmp`, buffered), and [`LocalOutput::commit`] renames that into place. Dropped
/// without a commit (a failed run), the temporary file is removed: the destination is left as it
/// was, never partly written. What `cleanse-file` writes through, as the Lambda writes S3 objects.
///
/// ```
/// use std::io::Write;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("out.csv");
/// let mut out = cleanse::output::LocalOutput::create(&path)?;
/// out.write_all(b"a,b\n")?;
/// assert!(!path.exists());
/// out.commit()?;
/// assert_eq!(std::fs::read(&path)?, b"a,b\n");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct LocalOutput {
    path: std::path::PathBuf,
    tmp: std::path::PathBuf,
    file: Option<io::BufWriter<std::fs::File>>,
}

impl LocalOutput {
    /// Creates the temporary file beside `path` (an error names it when that fails).
    pub fn create(path: impl AsRef<std::path::Path>) -> io::Result<LocalOutput> {
        let path = path.as_ref().to_path_buf();
        let name = path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a file name", path.display()),
            )
        })?;
        // (named and opened as lambda-kit's local object writes are: two outputs to one path in
        // one process get a temporary file each, and an existing file is never taken over)
        static TEMPS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = TEMPS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_file_name(format!(
            ".{}.{}-{n}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = std::fs::File::create_new(&tmp).map_err(|e| {
            io::Error::new(e.kind(), format!("cannot create {}: {e}", tmp.display()))
        })?;
        Ok(LocalOutput {
            path,
            tmp,
            file: Some(io::BufWriter::with_capacity(256 << 10, file)),
        })
    }

    /// Writes out what is buffered and renames the temporary file over the destination. On an
    /// error (a write that fails at the end, say on a full disk) the temporary file is removed.
    pub fn commit(mut self) -> io::Result<()> {
        if let Some(w) = self.file.take() {
            w.into_inner().map_err(|e| e.into_error())?;
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot rename {} into place: {e}", self.tmp.display()),
            )
        })
    }

    fn writer(&mut self) -> io::Result<&mut io::BufWriter<std::fs::File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the output is closed"))
    }
}

impl Write for LocalOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer()?.flush()
    }
}

impl Drop for LocalOutput {
    fn drop(&mut self) {
        // not committed, or the commit failed: the temporary file goes (after a commit it has
        // been renamed, and this finds nothing)
        drop(self.file.take());
        let _ = std::fs::remove_file(&self.tmp);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_output_is_all_or_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let path = dir.join("out.csv");
        std::fs::write(&path, b"old").unwrap();
        let tmps = || {
            std::fs::read_dir(dir)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .ends_with(".tmp")
                })
                .count()
        };
        // dropped without a commit: the destination is untouched, no temporary file is left
        let mut out = super::LocalOutput::create(&path).unwrap();
        out.write_all(&vec![b'x'; 600 << 10]).unwrap();
        assert_eq!(tmps(), 1);
        drop(out);
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(tmps(), 0);
        // committed: the whole content replaces the destination
        let mut out = super::LocalOutput::create(&path).unwrap();
        out.write_all(b"new,").unwrap();
        out.write_all(&vec![b'y'; 300 << 10]).unwrap();
        out.commit().unwrap();
        let got = std::fs::read(&path).unwrap();
        assert_eq!((&got[..4], got.len()), (&b"new,"[..], 4 + (300 << 10)));
        assert_eq!(tmps(), 0);
        // two outputs to one path: a temporary file each, and the last commit is what stays
        let mut a = super::LocalOutput::create(&path).unwrap();
        let mut b = super::LocalOutput::create(&path).unwrap();
        a.write_all(b"first").unwrap();
        b.write_all(b"second").unwrap();
        assert_eq!(tmps(), 2);
        a.commit().unwrap();
        b.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(tmps(), 0);
        // a destination in a directory that does not exist: an error that names the file
        let e = super::LocalOutput::create(dir.join("no/such/out.csv")).unwrap_err();
        assert!(e.to_string().contains("out.csv"), "{e}");
    }

    use super::*;

    #[test]
    fn needs_quotes_finds_each_special_byte_at_every_position() {
        for len in 0..40 {
            let plain = vec![b'a'; len];
            assert!(!needs_quotes(&plain, b','), "plain of {len}");
            // bytes next to the special ones (no false positives from neighbours)
            let near: Vec<u8> = (0..len)
                .map(|i| [b'#', b'!', b'-', 0x80, 0xff][i % 5])
                .collect();
            assert!(!needs_quotes(&near, b','), "near of {len}");
            for at in 0..len {
                for special in [b',', b'"', b'\n', b'\r'] {
                    let mut f = plain.clone();
                    f[at] = special;
                    assert!(needs_quotes(&f, b','), "{special} at {at} of {len}");
                }
                let mut tab = plain.clone();
                tab[at] = b'\t';
                assert!(needs_quotes(&tab, b'\t'));
                assert!(!needs_quotes(&tab, b','));
            }
        }
    }

    #[test]
    fn csv_quoting() {
        let mut out = Vec::new();
        write_csv_field(&mut out, b"plain", b',');
        out.push(b'|');
        write_csv_field(&mut out, b"a,b", b',');
        out.push(b'|');
        write_csv_field(&mut out, b"say \"hi\"\n", b';');
        assert_eq!(out, b"plain|\"a,b\"|\"say \"\"hi\"\"\n\"");
    }

    #[test]
    fn json_strings() {
        let mut out = Vec::new();
        write_json_string(&mut out, "q\"\\\n\t\u{1}é".as_bytes());
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "\"q\\\"\\\\\\n\\t\\u0001é\""
        );
        let back: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, "q\"\\\n\t\u{1}é");
    }

    #[test]
    fn sink_counts_bytes() {
        let mut s = Sink::new(Vec::new());
        s.buf.extend_from_slice(&[1; 300_000]);
        s.maybe_flush().unwrap();
        s.buf.extend_from_slice(b"xy");
        assert_eq!(s.bytes(), 300_002);
        s.write_direct(b"abc").unwrap();
        assert_eq!(s.bytes(), 300_005);
        let (n, inner) = s.finish().unwrap();
        assert_eq!((n, inner.len()), (300_005, 300_005));
        assert_eq!(&inner[300_000..], b"xyabc");
    }
}
