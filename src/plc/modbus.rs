//! Modbus requests under a timeout, keeping a PLC's exception answer apart from a failed link.

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
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("transport error: {0}")]
    Transport(tokio_modbus::Error),
    #[error("malformed answer: {0}")]
    Malformed(String),
    #[error("PLC heartbeat unchanged over {0} polls")]
    HeartbeatStale(u32),
    #[error("controller stopped")]
    Shutdown,
}

/// Requests to one connected PLC, each under `timeout`.
pub(super) struct Link<'a> {
    pub(super) ctx: &'a mut Context,
    pub(super) timeout: Duration,
}

/// Awaits a request within `limit`, keeping a PLC exception apart from a transport failure.
async fn call<T>(
    limit: Duration,
    what: impl FnOnce() -> String,
    f: impl std::future::Future<Output = tokio_modbus::Result<T>>,
) -> Result<T, RequestError> {
    match timeout(limit, f).await {
        Err(_) => Err(LinkError::Timeout(limit).into()),
        Ok(Err(e)) => Err(LinkError::Transport(e).into()),
        Ok(Ok(Err(code))) => Err(RequestError::Exception { what: what(), code }),
        Ok(Ok(Ok(v))) => Ok(v),
    }
}

impl Link<'_> {
    /// Reads a run of bits; a short answer is a malformed reply.
    pub(super) async fn read_bits(&mut self, r: ReadRange) -> Result<Vec<bool>, RequestError> {
        let ctx = &mut *self.ctx;
        let fut = async move {
            if r.table == Table::Coil {
                ctx.read_coils(r.start, r.count).await
            } else {
                ctx.read_discrete_inputs(r.start, r.count).await
            }
        };
        let what = || format!("read of {:?} {}+{}", r.table, r.start, r.count);
        let mut bits = call(self.timeout, what, fut).await?;
        if bits.len() < usize::from(r.count) {
            let m = format!("asked for {} bits, got {}", r.count, bits.len());
            return Err(LinkError::Malformed(m).into());
        }
        bits.truncate(usize::from(r.count));
        Ok(bits)
    }

    /// Reads a run of registers; an answer of the wrong length is a malformed reply.
    pub(super) async fn read_words(&mut self, r: ReadRange) -> Result<Vec<u16>, RequestError> {
        let ctx = &mut *self.ctx;
        let fut = async move {
            if r.table == Table::HoldingRegister {
                ctx.read_holding_registers(r.start, r.count).await
            } else {
                ctx.read_input_registers(r.start, r.count).await
            }
        };
        let what = || format!("read of {:?} {}+{}", r.table, r.start, r.count);
        let words = call(self.timeout, what, fut).await?;
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
        if let [one] = values {
            call(
                self.timeout,
                what,
                self.ctx.write_single_register(addr, *one),
            )
            .await
        } else {
            call(
                self.timeout,
                what,
                self.ctx.write_multiple_registers(addr, values),
            )
            .await
        }
    }

    /// Writes coils.
    pub(super) async fn write_coils(
        &mut self,
        addr: u16,
        values: &[bool],
    ) -> Result<(), RequestError> {
        let what = || format!("write of coil {addr}+{}", values.len());
        call(
            self.timeout,
            what,
            self.ctx.write_multiple_coils(addr, values),
        )
        .await
    }
}
