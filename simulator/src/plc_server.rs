//! A simulated PLC: a real Modbus TCP server over a process image laid out by a PLC map.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use floorctl_protocol::image::Image;
use floorctl_protocol::map::Table;
use tokio::net::TcpListener;
use tokio_modbus::prelude::{ExceptionCode, Request, Response, SlaveRequest};
use tokio_modbus::server::tcp::{accept_tcp_connection, Server};

/// A process image shared by the PLC's logic and its Modbus server.
pub type SharedImage = Arc<Mutex<Image>>;

/// The unit id the simulated PLCs answer to.
pub const UNIT: u8 = 1;

/// The Modbus service of one simulated PLC.
#[derive(Debug, Clone)]
pub struct PlcService {
    image: SharedImage,
}

impl PlcService {
    /// A service answering from `image`.
    pub fn new(image: SharedImage) -> PlcService {
        PlcService { image }
    }

    fn answer(&self, req: SlaveRequest<'static>) -> Result<Response, ExceptionCode> {
        // The TCP server does no unit-id filtering; a PLC behind a gateway address would not
        // answer for another unit, so neither does this one.
        if req.slave != UNIT {
            return Err(ExceptionCode::GatewayTargetDevice);
        }
        let req = req.request;
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
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }
}

impl tokio_modbus::server::Service for PlcService {
    type Request = SlaveRequest<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = std::future::Ready<Result<Response, ExceptionCode>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        std::future::ready(self.answer(req))
    }
}

/// Serves `image` over Modbus TCP on `listener` until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    image: SharedImage,
    stop: impl Future<Output = ()> + Send + Sync + 'static,
) -> io::Result<()> {
    let service = PlcService::new(image);
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
