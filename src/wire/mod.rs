//! The wire: `{packet,4}` frames, each one ETF term.
//!
//! ```text
//! frame    = Len:32/big, Payload:Len/binary        (Len <= MAX_FRAME)
//! request  = {Id, Op}                              Id >= 0, chosen by the caller
//! reply    = {Id, Result}                          in any order; Id 0 = unsolicited
//! part     = {Id, more, [Binary]}                  before the reply of a netlink_call with PartBytes
//! ready    = {0, {ready, Version}}                 the first frame the port sends
//! log      = {0, {log, Level, Text}}               Level: error | warning | notice | info
//!
//! Op       = {sysctl_read, RelPath, Target}              -> {ok, Value}
//!          | {sysctl_write, RelPath, Value, Target}      -> ok
//!          | {sysctl_list, RelPath, Target}              -> {ok, [{RelPath, Value}]}
//!          | {sysctl_list, RelPath, Target, keys}        -> {ok, [{Key, TrimmedValue}]}  (dot keys
//!                 where every segment is [A-Za-z0-9_-]+, else the path; values without
//!                 trailing blanks and newlines)
//!          | {netlink_open, Protocol, Groups, Target}     -> {ok, fd}   (fd sent on the fd channel)
//!          | {socket_open, Domain, Type, Protocol, Target} -> {ok, fd}
//!          | {netlink_call, Protocol, Msg, Target}        -> {ok, [Binary]}  (one per reply message)
//!          | {netlink_call, Protocol, Msg, Target, [{Offset, Target}]}       (namespace fds put in Msg)
//!          | {netlink_call, Protocol, Msg, Target, [{Offset, Target}], PartBytes}
//!                 -> zero or more {Id, more, [Binary]} frames (each about PartBytes of
//!                    replies, sent while the kernel still dumps; port mode only),
//!                    then {Id, {ok, [Binary]}} with the rest, or {Id, {error, _}}
//!          | {batch, Target, [BatchOp]}                   -> {ok, [Result]}  (one namespace visit)
//!          | {netlink_batch, Protocol, Target, [{Msg, [{Offset, Patch}]}], Stop}
//!                 -> {ok, [ok | {ok, [Binary]} | {error, {Stage, Reason}}]}  one per
//!                    message sent on the worker's kept socket: ok for an ack of its
//!                    sequence number and nothing else, else its replies; with Stop =
//!                    true one at a time, none after the first whose replies hold an
//!                    error; else changes up to 64 per sendto (a link message ends one)
//! Patch    = {ifindex, Name} | Target     4 bytes put at Offset before the message is
//!                 sent: the link's index (looked up again after a link message), or
//!                 the namespace's descriptor
//!          | {sysctl_apply, Target, [{RelPath, Value}]}   -> {ok, [{RelPath, OldValue}]}
//!                 | {error, {apply_failed, RelPath, {Stage, Reason}, [RolledBackPath]}}
//!          | version                                     -> {ok, Version}
//!          | stats                                       -> {ok, #{atom() => integer()}}
//!          | {ping, Term}                                -> {ok, Term}
//! BatchOp  = {sysctl_read, RelPath} | {sysctl_write, RelPath, Value} | {sysctl_list, RelPath}
//! Target   = self | {ns, [NsPath]} | {pid, OsPid} | {netns, Name}
//! Result   = ... | {error, {Stage, Reason}}
//!          | {error, {ns_fd, Offset, {Stage, Reason}}}  (netlink_call: the namespace of that
//!                 ns_fds entry failed, not the target)
//! ```
//!
//! The frames are read and written with the crate's [`frame`](crate::frame)
//! module (re-exported here), which the namespace helpers share. The pieces
//! of this layer do no I/O:
//! - [`etf_check`]: a structural check of the ETF bytes that bounds nesting,
//!   element counts and lengths before the term decoder allocates anything;
//! - [`request`]: ETF to typed [`Request`](crate::dispatch::Request)s;
//! - [`forward`]: typed requests back to ETF, for a namespace helper;
//! - [`reply`]: typed [`Outcome`](crate::ops::Outcome)s and errors to ETF.
//!
//! Only this layer knows the wire; the layers below work on typed values.

pub mod etf_check;
pub mod forward;
pub mod reply;
pub mod request;

pub use crate::frame::{encode_frame, parse_header, read_frame, FrameError, MAX_FRAME};
pub use etf_check::{check_etf, EtfError};
pub use forward::encode_request;
pub use reply::{encode_reply, error_term, outcome_term};
pub use request::{decode_op, decode_request, decode_target, Rejected};
