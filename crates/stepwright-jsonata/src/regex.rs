//! JavaScript regular expressions (`/re/flags` literals) via the `regress` ECMAScript engine.

use std::fmt;

/// A compiled regex literal.
pub(crate) struct Re {
    pub re: regress::Regex,
    pub source: String,
}

impl fmt::Debug for Re {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}/", self.source)
    }
}

/// One match: byte ranges of the whole match and the groups.
pub(crate) struct ReMatch {
    pub start: usize,
    pub end: usize,
    pub groups: Vec<Option<(usize, usize)>>,
}

impl Re {
    pub fn new(pattern: &str, flags: &str) -> Result<Re, String> {
        let re = regress::Regex::with_flags(pattern, flags).map_err(|e| e.to_string())?;
        Ok(Re {
            re,
            source: pattern.to_string(),
        })
    }

    /// The first match at or after byte offset `start`.
    pub fn find_at(&self, text: &str, start: usize) -> Option<ReMatch> {
        if start > text.len() {
            return None;
        }
        let m = self.re.find_from(text, start).next()?;
        Some(ReMatch {
            start: m.range.start,
            end: m.range.end,
            groups: m
                .captures
                .iter()
                .map(|c| c.as_ref().map(|r| (r.start, r.end)))
                .collect(),
        })
    }
}
