//! `{packet,4}` framing: a 4-byte big-endian length, then that many bytes.
//! The size cap is checked before anything is allocated, and an oversized
//! frame is skipped so that the stream stays in step.
//!
//! Below every layer and importing none of them: `wire` reads the node's
//! requests and writes the replies with it, and `ns` writes a namespace
//! helper's requests and reads its replies with it, without either knowing
//! the other. What a frame's body means is not its business.

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

/// What the bytes at hand begin with: a whole frame, whose body length is
/// returned, or `None` when more bytes are needed for one; an oversized
/// header is `TooLarge` however few bytes follow it.
pub fn whole_frame(bytes: &[u8]) -> Result<Option<usize>, FrameError> {
    let Some(header) = bytes.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = parse_header(*header)?;
    Ok((bytes.len() - 4 >= len).then_some(len))
}

/// How much of an oversized frame's body is kept: enough for the request
/// id at its head, so that the refusal can reach the right caller.
pub const KEPT_HEAD: usize = 16;

/// Read a frame's 4-byte header and return the body length it announces,
/// leaving the body unread.
pub fn read_header<R: Read>(r: &mut R) -> Result<usize, FrameError> {
    let mut header = [0u8; 4];
    read_full(r, &mut header)?;
    parse_header(header)
}

/// Read one frame body into `buf`. An oversized frame is consumed and
/// discarded in small pieces (never allocated) so the stream stays in step;
/// `buf` then holds the first [`KEPT_HEAD`] bytes of its body.
pub fn read_frame<R: Read>(r: &mut R, buf: &mut Vec<u8>) -> Result<(), FrameError> {
    match read_header(r) {
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

/// A payload with its length in front, as a buffer of its own.
pub fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    encode_frame(payload, &mut out);
    out
}

/// Begin a frame whose body is then appended to `out`, when its length is
/// not known yet: a placeholder for the length, and where the frame starts,
/// for [`end_frame`].
pub fn start_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    start
}

/// Write the length of the frame begun at `start` by [`start_frame`]: its
/// body is everything appended to `out` since.
pub fn end_frame(out: &mut [u8], start: usize) {
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_frames_are_told_from_partial_ones() {
        let mut bytes = Vec::new();
        encode_frame(b"abc", &mut bytes);
        for cut in 0..bytes.len() {
            assert!(matches!(whole_frame(&bytes[..cut]), Ok(None)), "{cut}");
        }
        assert!(matches!(whole_frame(&bytes), Ok(Some(3))));
        bytes.push(9);
        assert!(matches!(whole_frame(&bytes), Ok(Some(3))));
        let over = (MAX_FRAME as u32 + 1).to_be_bytes();
        assert!(matches!(whole_frame(&over), Err(FrameError::TooLarge(_))));
    }

    #[test]
    fn frames_written_in_two_steps_match_those_written_at_once() {
        let mut at_once = vec![7];
        encode_frame(b"body", &mut at_once);
        let mut in_two = vec![7];
        let start = start_frame(&mut in_two);
        in_two.extend_from_slice(b"body");
        end_frame(&mut in_two, start);
        assert_eq!(in_two, at_once);
        assert_eq!(framed(b"body"), at_once[1..]);
    }
}
