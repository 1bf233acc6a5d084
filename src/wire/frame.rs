//! `{packet,4}` framing: a 4-byte big-endian length, then that many bytes.
//! The size cap is checked before anything is allocated, and an oversized
//! frame is skipped so that the stream stays in step.

use std::io::{self, Read};

/// Largest frame accepted, in bytes.
pub const MAX_FRAME: usize = 16 << 20;

/// Why a frame could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The input ended (cleanly or inside a frame).
    #[error("end of input")]
    Eof,
    /// The length prefix exceeds [`MAX_FRAME`]; the body was skipped.
    #[error("frame of {0} bytes exceeds the limit")]
    TooLarge(usize),
    #[error("read failed: {0}")]
    Io(#[from] io::Error),
}

/// The body length announced by a 4-byte header, if within the limit.
pub fn parse_header(header: [u8; 4]) -> Result<usize, FrameError> {
    let len = u32::from_be_bytes(header) as usize;
    if len > MAX_FRAME {
        Err(FrameError::TooLarge(len))
    } else {
        Ok(len)
    }
}

/// How much of an oversized frame's body is kept: enough for the request
/// id at its head, so that the refusal can reach the right caller.
pub const KEPT_HEAD: usize = 16;

/// Read one frame body into `buf`. An oversized frame is consumed and
/// discarded in small pieces (never allocated) so the stream stays in step;
/// `buf` then holds the first [`KEPT_HEAD`] bytes of its body.
pub fn read_frame<R: Read>(r: &mut R, buf: &mut Vec<u8>) -> Result<(), FrameError> {
    let mut header = [0u8; 4];
    read_full(r, &mut header)?;
    match parse_header(header) {
        Ok(len) => {
            buf.clear();
            buf.resize(len, 0);
            read_full(r, buf)
        }
        Err(FrameError::TooLarge(len)) => {
            buf.clear();
            buf.resize(KEPT_HEAD, 0);
            read_full(r, buf)?;
            let rest = (len - KEPT_HEAD) as u64;
            let skipped = io::copy(&mut r.take(rest), &mut io::sink())?;
            if skipped < rest {
                return Err(FrameError::Eof);
            }
            Err(FrameError::TooLarge(len))
        }
        Err(e) => Err(e),
    }
}

fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<(), FrameError> {
    match r.read_exact(buf) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(FrameError::Eof),
        Err(e) => Err(FrameError::Io(e)),
    }
}

/// Prefix a payload with its 4-byte big-endian length.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}
