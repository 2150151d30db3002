//! A simulated PLC: a real Modbus TCP server over a process image laid out by a PLC map.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::Table;
use tokio::net::TcpListener;
use tokio_modbus::prelude::{ExceptionCode, Request, Response, SlaveRequest};
use tokio_modbus::server::tcp::{accept_tcp_connection, Server};

/// A process image shared by the PLC's logic and its Modbus server.
pub type SharedImage = Arc<Mutex<Image>>;

/// The unit id the simulated PLCs answer to.
pub const UNIT: u8 = 1;
/// The unit id that addresses a Modbus TCP server itself (0xFF), which it also answers to.
pub const UNIT_ANY: u8 = 0xFF;

/// Faults a test can inject into a PLC's Modbus server.
#[derive(Debug, Default)]
pub struct Faults {
    /// Answer every read with a "server device busy" exception.
    pub refuse_reads: AtomicBool,
    /// Answer every write with an "illegal function" exception.
    pub refuse_writes: AtomicBool,
    /// Answer every write as done and drop it (a write lost between the network and the PLC
    /// logic).
    pub drop_writes: AtomicBool,
    /// Die on the next write to a holding register.
    pub trap: Mutex<Option<Trap>>,
    /// Fires when the trap springs.
    pub sprung: Notify,
}

/// The PLC dies when the controller writes `register` (a wire address): after applying the
/// write when `apply`, otherwise before it (the request then never gets an answer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trap {
    /// Holding register address.
    pub register: u16,
    /// Whether the write lands before the PLC dies.
    pub apply: bool,
}

/// The Modbus service of one simulated PLC.
#[derive(Debug, Clone)]
pub struct PlcService {
    image: SharedImage,
    faults: Arc<Faults>,
}

type Answer = Result<Response, ExceptionCode>;

impl PlcService {
    /// A service answering from `image`, with the faults in `faults`.
    pub fn new(image: SharedImage, faults: Arc<Faults>) -> PlcService {
        PlcService { image, faults }
    }

    /// Whether a request springs the trap, and whether it is answered.
    fn trapped(&self, req: &Request<'_>) -> Option<bool> {
        let (addr, n) = match req {
            Request::WriteSingleRegister(a, _) => (*a, 1),
            Request::WriteMultipleRegisters(a, v) => (*a, v.len() as u16),
            _ => return None,
        };
        let mut trap = self.faults.trap.lock().unwrap_or_else(|p| p.into_inner());
        let t = (*trap)?;
        if !(addr..addr.saturating_add(n)).contains(&t.register) {
            return None;
        }
        *trap = None;
        self.faults.sprung.notify_one();
        Some(t.apply)
    }

    fn answer(&self, req: SlaveRequest<'static>) -> Answer {
        // The TCP server does no unit-id filtering; a PLC behind a gateway address would not
        // answer for another unit, so neither does this one.
        if req.slave != UNIT && req.slave != UNIT_ANY {
            return Err(ExceptionCode::GatewayTargetDevice);
        }
        let req = req.request;
        let is_read = matches!(
            req,
            Request::ReadCoils(..)
                | Request::ReadDiscreteInputs(..)
                | Request::ReadHoldingRegisters(..)
                | Request::ReadInputRegisters(..)
        );
        if is_read && self.faults.refuse_reads.load(Ordering::Relaxed) {
            return Err(ExceptionCode::ServerDeviceBusy);
        }
        if !is_read && self.faults.refuse_writes.load(Ordering::Relaxed) {
            return Err(ExceptionCode::IllegalFunction);
        }
        if !is_read && self.faults.drop_writes.load(Ordering::Relaxed) {
            return Ok(match req {
                Request::WriteSingleRegister(a, v) => Response::WriteSingleRegister(a, v),
                Request::WriteMultipleRegisters(a, ref v) => {
                    Response::WriteMultipleRegisters(a, v.len() as u16)
                }
                Request::WriteSingleCoil(a, v) => Response::WriteSingleCoil(a, v),
                Request::WriteMultipleCoils(a, ref v) => {
                    Response::WriteMultipleCoils(a, v.len() as u16)
                }
                _ => return Err(ExceptionCode::IllegalFunction),
            });
        }
        let mut img = self.image.lock().unwrap_or_else(|p| p.into_inner());
        let bad = |_| ExceptionCode::IllegalDataAddress;
        match req {
            Request::ReadCoils(a, n) => Ok(Response::ReadCoils(
                img.bits(Table::Coil, a, n).map_err(bad)?.to_vec(),
            )),
            Request::ReadDiscreteInputs(a, n) => Ok(Response::ReadDiscreteInputs(
                img.bits(Table::DiscreteInput, a, n).map_err(bad)?.to_vec(),
            )),
            Request::ReadHoldingRegisters(a, n) => Ok(Response::ReadHoldingRegisters(
                img.words(Table::HoldingRegister, a, n)
                    .map_err(bad)?
                    .to_vec(),
            )),
            Request::ReadInputRegisters(a, n) => Ok(Response::ReadInputRegisters(
                img.words(Table::InputRegister, a, n).map_err(bad)?.to_vec(),
            )),
            Request::WriteSingleCoil(a, v) => {
                img.set_bits(Table::Coil, a, &[v]).map_err(bad)?;
                Ok(Response::WriteSingleCoil(a, v))
            }
            Request::WriteMultipleCoils(a, v) => {
                img.set_bits(Table::Coil, a, &v).map_err(bad)?;
                Ok(Response::WriteMultipleCoils(a, v.len() as u16))
            }
            Request::WriteSingleRegister(a, v) => {
                img.set_words(Table::HoldingRegister, a, &[v])
                    .map_err(bad)?;
                Ok(Response::WriteSingleRegister(a, v))
            }
            Request::WriteMultipleRegisters(a, v) => {
                img.set_words(Table::HoldingRegister, a, &v).map_err(bad)?;
                Ok(Response::WriteMultipleRegisters(a, v.len() as u16))
            }
            Request::ReadWriteMultipleRegisters(ra, rn, wa, v) => {
                img.set_words(Table::HoldingRegister, wa, &v).map_err(bad)?;
                Ok(Response::ReadWriteMultipleRegisters(
                    img.words(Table::HoldingRegister, ra, rn)
                        .map_err(bad)?
                        .to_vec(),
                ))
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }
}

impl tokio_modbus::server::Service for PlcService {
    type Request = SlaveRequest<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = Pin<Box<dyn Future<Output = Answer> + Send>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        match self.trapped(&req.request) {
            // Dead before the write: no answer ever comes.
            Some(false) => Box::pin(std::future::pending()),
            _ => Box::pin(std::future::ready(self.answer(req))),
        }
    }
}

/// Serves `image` over Modbus TCP on `listener` until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    service: PlcService,
    stop: impl Future<Output = ()> + Send + Sync + 'static,
) -> io::Result<()> {
    let on_connected = move |stream, addr: SocketAddr| {
        let service = service.clone();
        async move { accept_tcp_connection(stream, addr, move |_| Ok(Some(service.clone()))) }
    };
    let on_error = |err| tracing::debug!(%err, "modbus connection ended");
    Server::new(listener)
        .serve_until(&on_connected, on_error, stop)
        .await?;
    Ok(())
}
