//! floorsim: a virtual forward warehouse. Its PLCs are real Modbus TCP servers serving the same
//! register maps the controller reads, and its pickers are real MQTT clients.

pub mod floor;
pub mod machine;
pub mod orders;
pub mod picker;
pub mod plc_server;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::PlcMap;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::floor::{Floor, FloorSnapshot, FloorTiming};
use crate::plc_server::SharedImage;

/// How often the floor model advances.
const STEP: Duration = Duration::from_millis(10);

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Map of the conveyor PLC.
    pub conveyor_map: PlcMap,
    /// Map of the sorter PLC.
    pub sorter_map: PlcMap,
    /// Where the conveyor PLC listens (port 0: any free port).
    pub conveyor_listen: SocketAddr,
    /// Where the sorter PLC listens (port 0: any free port).
    pub sorter_listen: SocketAddr,
    /// Equipment timing.
    pub timing: FloorTiming,
}

/// How the virtual pickers work.
#[derive(Debug, Clone)]
pub struct PickersConfig {
    /// Site id in the topics.
    pub site: String,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// Number of pickers, with handheld ids `h1`, `h2`, ...
    pub count: usize,
    /// Time to pick one line.
    pub pick_ms: u64,
    /// Time to close a tote and take it to the conveyor.
    pub deliver_ms: u64,
}

/// A running simulated floor.
#[derive(Debug)]
pub struct Simulator {
    /// Address of the conveyor PLC.
    pub conveyor_addr: SocketAddr,
    /// Address of the sorter PLC.
    pub sorter_addr: SocketAddr,
    floor: Arc<Mutex<Floor>>,
    servers: Vec<PlcServer>,
    cancel: CancellationToken,
    tasks: JoinSet<()>,
}

/// One of the simulated PLCs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimPlc {
    /// The conveyor PLC.
    Conveyor,
    /// The sorter PLC.
    Sorter,
}

#[derive(Debug)]
struct PlcServer {
    image: SharedImage,
    stop: CancellationToken,
}

fn spawn_server(
    tasks: &mut JoinSet<()>,
    listener: TcpListener,
    image: SharedImage,
    stop: CancellationToken,
) {
    tasks.spawn(async move {
        if let Err(err) = plc_server::serve(listener, image, stop.cancelled_owned()).await {
            tracing::error!(%err, "simulated PLC server stopped");
        }
    });
}

impl Simulator {
    /// Binds the PLC servers and starts the floor.
    pub async fn start(cfg: SimConfig) -> std::io::Result<Simulator> {
        let conveyor_l = TcpListener::bind(cfg.conveyor_listen).await?;
        let sorter_l = TcpListener::bind(cfg.sorter_listen).await?;
        let conveyor_addr = conveyor_l.local_addr()?;
        let sorter_addr = sorter_l.local_addr()?;
        let conveyor: SharedImage = Arc::new(Mutex::new(Image::for_map(&cfg.conveyor_map)));
        let sorter: SharedImage = Arc::new(Mutex::new(Image::for_map(&cfg.sorter_map)));
        let floor = Arc::new(Mutex::new(Floor::new(
            cfg.conveyor_map,
            cfg.sorter_map,
            cfg.timing,
        )));
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let mut servers = Vec::new();
        for (listener, image) in [(conveyor_l, conveyor.clone()), (sorter_l, sorter.clone())] {
            let server = cancel.child_token();
            spawn_server(&mut tasks, listener, image.clone(), server.clone());
            servers.push(PlcServer {
                image,
                stop: server,
            });
        }
        let (f, c) = (floor.clone(), cancel.clone());
        tasks.spawn(async move {
            let start = tokio::time::Instant::now();
            let mut tick = tokio::time::interval(STEP);
            loop {
                tokio::select! {
                    () = c.cancelled() => return,
                    _ = tick.tick() => {}
                }
                let now = start.elapsed().as_millis() as u64;
                let mut floor = f.lock().unwrap_or_else(|p| p.into_inner());
                let mut cv = conveyor.lock().unwrap_or_else(|p| p.into_inner());
                let mut so = sorter.lock().unwrap_or_else(|p| p.into_inner());
                floor.step(now, &mut cv, &mut so);
            }
        });
        Ok(Simulator {
            conveyor_addr,
            sorter_addr,
            floor,
            servers,
            cancel,
            tasks,
        })
    }

    /// Takes a PLC off the network for `outage`: its server closes every connection and stops
    /// listening, then listens again on the same address. The PLC logic keeps running.
    pub async fn cut(&mut self, plc: SimPlc, outage: Duration) -> std::io::Result<()> {
        let (i, addr) = match plc {
            SimPlc::Conveyor => (0, self.conveyor_addr),
            SimPlc::Sorter => (1, self.sorter_addr),
        };
        self.servers[i].stop.cancel();
        tokio::time::sleep(outage).await;
        let listener = TcpListener::bind(addr).await?;
        let stop = self.cancel.child_token();
        spawn_server(
            &mut self.tasks,
            listener,
            self.servers[i].image.clone(),
            stop.clone(),
        );
        self.servers[i].stop = stop;
        Ok(())
    }

    /// Starts the virtual pickers against an MQTT broker.
    pub fn start_pickers(&mut self, cfg: &PickersConfig) {
        for i in 1..=cfg.count {
            let p = picker::PickerConfig {
                site: cfg.site.clone(),
                scanner: format!("h{i}"),
                host: cfg.host.clone(),
                port: cfg.port,
                pick_ms: cfg.pick_ms,
                deliver_ms: cfg.deliver_ms,
                resync_ms: 5000,
            };
            self.tasks
                .spawn(picker::run(p, self.floor.clone(), self.cancel.clone()));
        }
    }

    /// Runs `f` on the floor model, to inject faults (jams, disabled chutes, a lost tote).
    pub fn with_floor<T>(&self, f: impl FnOnce(&mut Floor) -> T) -> T {
        f(&mut self.floor.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A copy of a PLC's process image, as its Modbus server serves it.
    pub fn image(&self, plc: SimPlc) -> Image {
        let i = match plc {
            SimPlc::Conveyor => 0,
            SimPlc::Sorter => 1,
        };
        self.servers[i]
            .image
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What is where on the floor now.
    pub fn snapshot(&self) -> FloorSnapshot {
        self.floor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .snapshot()
    }

    /// Stops every server and picker and waits for them.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}
