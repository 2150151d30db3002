//! Simulated PLCs served from a thread of their own, for the benchmarks.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use floorctl_protocol::image::Image;
use floorctl_protocol::map::PlcMap;
use floorctl_protocol::packml::State;
use floorsim::plc_server::{Faults, PlcService, SharedImage};
use tokio::net::TcpListener;
use tokio_modbus::prelude::{ExceptionCode, Request, Response, SlaveRequest};
use tokio_util::sync::CancellationToken;

use floorctl::config::{Broker, Config, PlcSpec};
use floorctl::demo::{self, shipped_map, SORTER_MAP};

/// A listening socket bound here, served from another thread.
pub(super) fn bind(addr: SocketAddr) -> anyhow::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr).with_context(|| format!("listening on {addr}"))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// Serves each image on its listener from a thread of its own until `stop`.
pub(super) fn serve_on_thread(
    images: Vec<(std::net::TcpListener, SharedImage)>,
    hook: Option<Arc<DivertHook>>,
    stop: CancellationToken,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            for (listener, image) in images {
                let listener = match TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(err) => {
                        eprintln!("cannot serve a simulated PLC: {err}");
                        continue;
                    }
                };
                let service = PlcService::new(image.clone(), Arc::new(Faults::default()));
                let stop = stop.clone();
                let hook = hook.clone();
                tokio::spawn(async move {
                    let on_connected = move |stream, peer: SocketAddr| {
                        let service = HookedService {
                            inner: service.clone(),
                            image: image.clone(),
                            hook: hook.clone(),
                        };
                        async move {
                            tokio_modbus::server::tcp::accept_tcp_connection(
                                stream,
                                peer,
                                move |_| Ok(Some(service.clone())),
                            )
                        }
                    };
                    let server = tokio_modbus::server::tcp::Server::new(listener);
                    let _ = server
                        .serve_until(&on_connected, |_| {}, stop.cancelled_owned())
                        .await;
                });
            }
            stop.cancelled().await;
        });
    })
}

pub(super) async fn wait_listening(addr: SocketAddr) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Simulated sorter PLCs in Execute with live heartbeats, served from another thread.
pub(super) struct PlcFarm {
    pub(super) addrs: Vec<SocketAddr>,
    pub(super) images: Vec<SharedImage>,
    stop: CancellationToken,
    server: Option<std::thread::JoinHandle<()>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl PlcFarm {
    pub(super) fn start(n: usize, hook: Option<Arc<DivertHook>>) -> anyhow::Result<PlcFarm> {
        let map = shipped_map(SORTER_MAP);
        let mut addrs = Vec::new();
        let mut listeners = Vec::new();
        let mut images = Vec::new();
        for _ in 0..n {
            let l = bind("127.0.0.1:0".parse()?)?;
            addrs.push(l.local_addr()?);
            listeners.push(l);
            let mut img = Image::for_map(&map);
            let pk = map.packml.as_ref().expect("sorter map has PackML");
            let state = map.signal(&pk.state).expect("state signal");
            img.set(
                state,
                0,
                u32::from(pk.state_value(State::Execute).unwrap_or(0)),
            );
            images.push(Arc::new(Mutex::new(img)));
        }
        let stop = CancellationToken::new();
        let server = serve_on_thread(
            listeners.into_iter().zip(images.iter().cloned()).collect(),
            hook,
            stop.clone(),
        );
        let ticker = {
            let images = images.clone();
            let stop = stop.clone();
            let hb = map.signal("plc_heartbeat").expect("heartbeat").clone();
            std::thread::spawn(move || {
                let mut beat = 0u32;
                while !stop.is_cancelled() {
                    beat = beat % 65_535 + 1;
                    for img in &images {
                        img.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .set(&hb, 0, beat);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        Ok(PlcFarm {
            addrs,
            images,
            stop,
            server: Some(server),
            ticker: Some(ticker),
        })
    }
}

impl Drop for PlcFarm {
    fn drop(&mut self) {
        self.stop.cancel();
        for t in [self.server.take(), self.ticker.take()]
            .into_iter()
            .flatten()
        {
            let _ = t.join();
        }
    }
}

/// When each tote became visible at an induct, and how long its divert took to arrive.
#[derive(Debug, Default)]
pub(super) struct DivertHook {
    pub(super) inducted: Mutex<HashMap<u32, Instant>>,
    pub(super) latencies_ms: Mutex<Vec<f64>>,
}

/// A simulated sorter's service that timestamps each divert as it arrives and acknowledges it.
#[derive(Debug, Clone)]
struct HookedService {
    inner: PlcService,
    image: SharedImage,
    hook: Option<Arc<DivertHook>>,
}

impl tokio_modbus::server::Service for HookedService {
    type Request = SlaveRequest<'static>;
    type Response = Response;
    type Exception = ExceptionCode;
    type Future = Pin<Box<dyn Future<Output = Result<Response, ExceptionCode>> + Send>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        let seq_write = match &req.request {
            Request::WriteSingleRegister(a, v) => Some((*a, *v)),
            _ => None,
        };
        let answer = self.inner.call(req);
        if let (Some(hook), Some((addr, seq))) = (&self.hook, seq_write) {
            let map = sorter_map();
            if addr == map.signal("divert_seq").map_or(u16::MAX, |s| s.address) {
                let at = Instant::now();
                let mut img = self.image.lock().unwrap_or_else(|p| p.into_inner());
                let tote = img.get(map.signal("divert_tote").expect("signal"), 0);
                img.set(
                    map.signal("divert_ack_seq").expect("signal"),
                    0,
                    u32::from(seq),
                );
                drop(img);
                if let Some(t0) = hook
                    .inducted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&tote)
                {
                    let ms = at.duration_since(t0).as_secs_f64() * 1000.0;
                    hook.latencies_ms
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(ms);
                }
            }
        }
        answer
    }
}

pub(super) fn sorter_map() -> &'static PlcMap {
    static MAP: std::sync::OnceLock<PlcMap> = std::sync::OnceLock::new();
    MAP.get_or_init(|| shipped_map(SORTER_MAP))
}

/// A benchmark site: the demo's layout, a journal in `dir`, `broker`, and a sorter at each of
/// `sorters` (named sorter1, sorter2, …).
pub(super) fn bench_site(dir: &std::path::Path, broker: Broker, sorters: &[SocketAddr]) -> Config {
    let map = sorter_map();
    Config {
        site: super::scanners::SITE.into(),
        database: dir.join("floorctl.db").into(),
        broker,
        plcs: sorters
            .iter()
            .enumerate()
            .map(|(i, a)| PlcSpec::new(&format!("sorter{}", i + 1), *a, map.clone()))
            .collect(),
        layout: demo::layout(),
        dashboard: Default::default(),
        network: None,
    }
}
