//! A structural check of external-term-format bytes, run before the term
//! decoder allocates anything: every length must fit in what is left,
//! nesting stays within [`MAX_DEPTH`] and the term count within
//! [`MAX_TERMS`]. Only the tags a request can use are accepted (no
//! compression; pids, references, ports and funs only in distribution).

use eetf::Term;

/// Deepest nesting of lists, tuples and maps accepted in a request.
pub const MAX_DEPTH: usize = 64;
/// Most terms (of any kind) accepted in one request.
pub const MAX_TERMS: usize = 1 << 18;
/// Deepest nesting accepted in a distribution message: far beyond a
/// request's, so that a request nested too deeply can still be read far
/// enough to be answered, yet bounded for the decoder's recursion.
pub const DIST_DEPTH: usize = 1024;
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
    let mut c = Checker::new(bytes);
    c.versioned_term()?;
    if !c.at_end() {
        return Err(EtfError::Trailing);
    }
    Ok(())
}

/// A request's limits for a term already decoded (the op of a
/// distribution message): nesting within [`MAX_DEPTH`], and no pids,
/// ports, references or funs.
pub fn check_term(t: &Term) -> Result<(), EtfError> {
    walk(t, 0)
}

fn walk(t: &Term, depth: usize) -> Result<(), EtfError> {
    if depth > MAX_DEPTH {
        return Err(EtfError::TooDeep);
    }
    let each = |items: &[Term]| items.iter().try_for_each(|e| walk(e, depth + 1));
    match t {
        Term::Pid(_) | Term::Port(_) | Term::Reference(_) | Term::ExternalFun(_) | Term::InternalFun(_) => {
            Err(EtfError::Unsupported)
        }
        Term::List(l) => each(&l.elements),
        Term::ImproperList(l) => each(&l.elements).and_then(|()| walk(&l.last, depth + 1)),
        Term::Tuple(tuple) => each(&tuple.elements),
        Term::Map(m) => m
            .map
            .iter()
            .try_for_each(|(k, v)| walk(k, depth + 1).and_then(|()| walk(v, depth + 1))),
        _ => Ok(()),
    }
}

/// A cursor over ETF bytes that checks one term at a time (see the module
/// documentation); C-node mode checks a distribution message's terms with it.
pub struct Checker<'a> {
    b: &'a [u8],
    pos: usize,
    terms: usize,
    /// Accept pids, references, ports and funs.
    ids: bool,
    max_depth: usize,
}

impl<'a> Checker<'a> {
    /// A checker at the start of `bytes` for the terms of a request.
    pub fn new(bytes: &'a [u8]) -> Self {
        Checker {
            b: bytes,
            pos: 0,
            terms: 0,
            ids: false,
            max_depth: MAX_DEPTH,
        }
    }

    /// A checker for the terms of a distribution message: pids,
    /// references and ports (which address processes) and funs are
    /// accepted, and [`DIST_DEPTH`] levels of nesting, so that a request
    /// inside one can still be answered with why it is refused
    /// ([`check_term`] applies a request's limits to it).
    pub fn for_distribution(bytes: &'a [u8]) -> Self {
        Checker {
            ids: true,
            max_depth: DIST_DEPTH,
            ..Self::new(bytes)
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
        if depth > self.max_depth {
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
            112 if self.ids => {
                // NEW_FUN_EXT: Size, Arity, Uniq, Index, NumFree, then
                // Module, OldIndex, OldUniq, Pid and NumFree free variables.
                self.take(4 + 1 + 16 + 4)?;
                let free = self.u32()?;
                self.seq(4, depth)?;
                self.seq(free, depth)
            }
            113 if self.ids => self.seq(3, depth), // EXPORT_EXT: Module, Function, Arity
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
