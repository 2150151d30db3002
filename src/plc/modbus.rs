//! Modbus requests under a timeout, keeping a PLC's exception answer apart from a failed link.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use floorctl_protocol::map::{ReadRange, Table};
use tokio::time::timeout;
use tokio_modbus::client::{Context, Reader, Writer};
use tokio_modbus::ExceptionCode;

/// A request that did not get a normal answer.
#[derive(Debug, thiserror::Error)]
pub(super) enum RequestError {
    /// The link is unusable: the session must end and a fresh connection be made (a late reply
    /// would otherwise answer a later request).
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The PLC answered with a Modbus exception: the link works, the request was refused.
    #[error("PLC refused {what} with exception {code:?}")]
    Exception {
        /// Which request.
        what: String,
        /// The exception.
        code: ExceptionCode,
    },
}

/// Why a session with the PLC ended.
#[derive(Debug, thiserror::Error)]
pub(super) enum LinkError {
    #[error("connect failed: {0}")]
    Connect(std::io::Error),
    #[error("no answer within {limit:?}, {attempts} time(s) in a row")]
    Timeout {
        /// How long each attempt waited.
        limit: Duration,
        /// Attempts made.
        attempts: u32,
    },
    #[error("transport error: {0}")]
    Transport(tokio_modbus::Error),
    #[error("malformed answer: {0}")]
    Malformed(String),
    #[error("PLC heartbeat unchanged over {0} polls")]
    HeartbeatStale(u32),
    #[error("controller stopped")]
    Shutdown,
}

/// Requests to one connected PLC. A request not answered within `timeout` is sent again, up to
/// `retries` times, before the link is given up: every request floorctl makes reads, or writes
/// absolute values (never increments), so sending one twice changes nothing. A late answer to an
/// abandoned attempt does not match the next request's transaction and ends the session.
pub(super) struct Link<'a> {
    pub(super) ctx: &'a mut Context,
    pub(super) timeout: Duration,
    pub(super) retries: u32,
    /// Requests sent again because no answer came in time.
    pub(super) resent: u64,
}

/// One request's answer, borrowing the connection.
type Answer<'c, T> = Pin<Box<dyn Future<Output = tokio_modbus::Result<T>> + Send + 'c>>;

impl Link<'_> {
    /// Sends a request (made afresh for each attempt) until it is answered or the retries are
    /// spent, keeping a PLC exception apart from a transport failure.
    async fn call<T>(
        &mut self,
        what: impl Fn() -> String,
        mut request: impl for<'c> FnMut(&'c mut Context) -> Answer<'c, T>,
    ) -> Result<T, RequestError> {
        let mut attempt = 0;
        loop {
            match timeout(self.timeout, request(self.ctx)).await {
                Err(_) if attempt < self.retries => {
                    attempt += 1;
                    self.resent += 1;
                    tracing::debug!(attempt, "no answer to the {} in time: sent again", what());
                }
                Err(_) => {
                    return Err(LinkError::Timeout {
                        limit: self.timeout,
                        attempts: attempt + 1,
                    }
                    .into())
                }
                Ok(Err(e)) => return Err(LinkError::Transport(e).into()),
                Ok(Ok(Err(code))) => return Err(RequestError::Exception { what: what(), code }),
                Ok(Ok(Ok(v))) => return Ok(v),
            }
        }
    }

    /// Reads a run of bits; a short answer is a malformed reply.
    pub(super) async fn read_bits(&mut self, r: ReadRange) -> Result<Vec<bool>, RequestError> {
        let what = || format!("read of {:?} {}+{}", r.table, r.start, r.count);
        let mut bits = self
            .call(what, |ctx| {
                if r.table == Table::Coil {
                    Box::pin(ctx.read_coils(r.start, r.count))
                } else {
                    Box::pin(ctx.read_discrete_inputs(r.start, r.count))
                }
            })
            .await?;
        if bits.len() < usize::from(r.count) {
            let m = format!("asked for {} bits, got {}", r.count, bits.len());
            return Err(LinkError::Malformed(m).into());
        }
        bits.truncate(usize::from(r.count));
        Ok(bits)
    }

    /// Reads a run of registers; an answer of the wrong length is a malformed reply.
    pub(super) async fn read_words(&mut self, r: ReadRange) -> Result<Vec<u16>, RequestError> {
        let what = || format!("read of {:?} {}+{}", r.table, r.start, r.count);
        let words = self
            .call(what, |ctx| {
                if r.table == Table::HoldingRegister {
                    Box::pin(ctx.read_holding_registers(r.start, r.count))
                } else {
                    Box::pin(ctx.read_input_registers(r.start, r.count))
                }
            })
            .await?;
        if words.len() != usize::from(r.count) {
            let m = format!("asked for {} registers, got {}", r.count, words.len());
            return Err(LinkError::Malformed(m).into());
        }
        Ok(words)
    }

    /// Writes holding registers (one register with function 6, more with function 16).
    pub(super) async fn write_words(
        &mut self,
        addr: u16,
        values: &[u16],
    ) -> Result<(), RequestError> {
        let what = || format!("write of holding register {addr}+{}", values.len());
        self.call(what, |ctx| {
            let values = values.to_vec();
            Box::pin(async move {
                if let [one] = values[..] {
                    ctx.write_single_register(addr, one).await
                } else {
                    ctx.write_multiple_registers(addr, &values).await
                }
            })
        })
        .await
    }

    /// Writes coils.
    pub(super) async fn write_coils(
        &mut self,
        addr: u16,
        values: &[bool],
    ) -> Result<(), RequestError> {
        let what = || format!("write of coil {addr}+{}", values.len());
        self.call(what, |ctx| {
            let values = values.to_vec();
            Box::pin(async move { ctx.write_multiple_coils(addr, &values).await })
        })
        .await
    }
}
