//! A structural check of external-term-format bytes, run before the term
//! decoder allocates anything: every length must fit in what is left,
//! nesting stays within [`MAX_DEPTH`] and the term count within
//! [`MAX_TERMS`]. Only the tags a request can use are accepted (no
//! compression, no funs; pids, references and ports only when asked for).

/// Deepest nesting of lists, tuples and maps accepted in a request.
pub const MAX_DEPTH: usize = 64;
/// Most terms (of any kind) accepted in one request.
pub const MAX_TERMS: usize = 1 << 18;
/// Largest big integer accepted, in bytes of magnitude.
const MAX_BIG_BYTES: usize = 16;

/// Why ETF bytes were refused before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EtfError {
    #[error("truncated term")]
    Truncated,
    #[error("unsupported version or tag")]
    Unsupported,
    #[error("term nested too deeply")]
    TooDeep,
    #[error("term has too many elements")]
    TooMany,
    #[error("trailing bytes after the term")]
    Trailing,
}

/// Accept `bytes` only if they are one term (version byte included) that
/// passes the check, with nothing after it.
pub fn check_etf(bytes: &[u8]) -> Result<(), EtfError> {
    let mut c = Checker::new(bytes, false);
    c.versioned_term()?;
    if !c.at_end() {
        return Err(EtfError::Trailing);
    }
    Ok(())
}

/// A cursor over ETF bytes that checks one term at a time (see the module
/// documentation); C-node mode checks a distribution message's terms with it.
pub struct Checker<'a> {
    b: &'a [u8],
    pos: usize,
    terms: usize,
    /// Accept pids, references and ports.
    ids: bool,
}

impl<'a> Checker<'a> {
    /// A checker at the start of `bytes`; `ids` also accepts pids,
    /// references and ports (which address processes in distribution).
    pub fn new(bytes: &'a [u8], ids: bool) -> Self {
        Checker {
            b: bytes,
            pos: 0,
            terms: 0,
            ids,
        }
    }

    /// Check one term preceded by its version byte (131).
    pub fn versioned_term(&mut self) -> Result<(), EtfError> {
        if self.u8()? != 131 {
            return Err(EtfError::Unsupported);
        }
        self.term(0)
    }

    /// Whether every byte has been checked.
    pub fn at_end(&self) -> bool {
        self.pos == self.b.len()
    }
}

impl Checker<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], EtfError> {
        let end = self.pos.checked_add(n).ok_or(EtfError::Truncated)?;
        let s = self.b.get(self.pos..end).ok_or(EtfError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, EtfError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<usize, EtfError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]) as usize)
    }
    fn u32(&mut self) -> Result<usize, EtfError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
    }
    fn remaining(&self) -> usize {
        self.b.len() - self.pos
    }
    /// Account for `n` more terms, each needing at least one byte.
    fn expect(&mut self, n: usize) -> Result<(), EtfError> {
        if n > self.remaining() {
            return Err(EtfError::Truncated);
        }
        self.terms = self.terms.saturating_add(n);
        if self.terms > MAX_TERMS {
            return Err(EtfError::TooMany);
        }
        Ok(())
    }
    fn term(&mut self, depth: usize) -> Result<(), EtfError> {
        if depth > MAX_DEPTH {
            return Err(EtfError::TooDeep);
        }
        match self.u8()? {
            97 => self.take(1).map(drop), // SMALL_INTEGER_EXT
            98 => self.take(4).map(drop), // INTEGER_EXT
            70 => self.take(8).map(drop), // NEW_FLOAT_EXT
            100 | 118 => {
                // ATOM_EXT, ATOM_UTF8_EXT
                let n = self.u16()?;
                if n > 255 * 4 {
                    return Err(EtfError::Unsupported);
                }
                self.take(n).map(drop)
            }
            115 | 119 => {
                // SMALL_ATOM_EXT, SMALL_ATOM_UTF8_EXT
                let n = self.u8()? as usize;
                self.take(n).map(drop)
            }
            104 => {
                let n = self.u8()? as usize;
                self.seq(n, depth)
            }
            105 => {
                let n = self.u32()?;
                self.seq(n, depth)
            }
            106 => Ok(()), // NIL_EXT
            107 => {
                let n = self.u16()?;
                self.take(n).map(drop)
            }
            108 => {
                // LIST_EXT: n elements and a tail
                let n = self.u32()?;
                self.seq(n.checked_add(1).ok_or(EtfError::TooMany)?, depth)
            }
            109 => {
                let n = self.u32()?;
                self.take(n).map(drop)
            }
            77 => {
                // BIT_BINARY_EXT
                let n = self.u32()?;
                let bits = self.u8()?;
                // Trailing bits must be 1..=8 (eetf shifts by 8 - bits, as Erlang requires).
                if n > 0 && !(1..=8).contains(&bits) {
                    return Err(EtfError::Unsupported);
                }
                self.take(n).map(drop)
            }
            110 => {
                let n = self.u8()? as usize;
                self.big(n)
            }
            111 => {
                let n = self.u32()?;
                self.big(n)
            }
            116 => {
                let n = self.u32()?;
                self.seq(n.checked_mul(2).ok_or(EtfError::TooMany)?, depth)
            }
            tag if self.ids => self.id(tag),
            _ => Err(EtfError::Unsupported),
        }
    }
    /// A pid, reference or port: a node atom and fixed-size fields.
    fn id(&mut self, tag: u8) -> Result<(), EtfError> {
        let (words, fixed) = match tag {
            88 => (0, 12),  // NEW_PID_EXT
            103 => (0, 9),  // PID_EXT
            89 => (0, 8),   // NEW_PORT_EXT
            120 => (0, 12), // V4_PORT_EXT
            102 => (0, 5),  // PORT_EXT
            90 | 114 => {
                // NEWER_REFERENCE_EXT, NEW_REFERENCE_EXT: Len, Node, Creation, Len words
                let n = self.u16()?;
                if n > 5 {
                    return Err(EtfError::Unsupported);
                }
                (n * 4, if tag == 90 { 4 } else { 1 })
            }
            _ => return Err(EtfError::Unsupported),
        };
        match self.u8()? {
            100 | 118 => {
                let n = self.u16()?;
                if n > 255 * 4 {
                    return Err(EtfError::Unsupported);
                }
                self.take(n)?;
            }
            115 | 119 => {
                let n = self.u8()? as usize;
                self.take(n)?;
            }
            _ => return Err(EtfError::Unsupported),
        }
        self.take(fixed + words).map(drop)
    }
    fn seq(&mut self, n: usize, depth: usize) -> Result<(), EtfError> {
        self.expect(n)?;
        for _ in 0..n {
            self.term(depth + 1)?;
        }
        Ok(())
    }
    fn big(&mut self, n: usize) -> Result<(), EtfError> {
        if n > MAX_BIG_BYTES {
            return Err(EtfError::Unsupported);
        }
        self.take(1 + n).map(drop)
    }
}
