//! floorsim: a virtual forward warehouse. Its PLCs are real Modbus TCP servers serving the same
//! register maps the controller reads, and its pickers are real MQTT clients.

pub mod floor;
pub mod machine;
pub mod orders;
pub mod picker;
pub mod plc_server;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use floorctl_protocol::image::Image;
use floorctl_protocol::map::PlcMap;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::floor::{Floor, FloorSnapshot, FloorTiming};
use crate::plc_server::{Faults, PlcService, SharedImage, Trap};

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
    /// Chance that a scan reads a wrong label first.
    pub wrong_scan_rate: f64,
    /// Chance that a location holds fewer units than directed.
    pub short_rate: f64,
    /// Chance that a handheld's tote is full before a line after an order's first.
    pub tote_full_rate: f64,
    /// Handhelds that go offline: (handheld number from 1, right after confirming its n-th line,
    /// for ms).
    pub offline: Vec<(usize, u32, u64)>,
    /// Seed of the pickers' mistakes.
    pub seed: u64,
    /// Pickers walk this pick area at this speed (see [`picker::Walk`]); default: no walking
    /// beyond `pick_ms`.
    pub walk: Option<picker::Walk>,
    /// Each handheld's password for the broker, `{id}` standing for its id (`h1`, …); none:
    /// no login.
    pub password: Option<String>,
}

impl PickersConfig {
    /// Pickers that make no mistakes and stay online.
    pub fn steady(
        site: &str,
        host: &str,
        port: u16,
        count: usize,
        pick_ms: u64,
        deliver_ms: u64,
    ) -> PickersConfig {
        PickersConfig {
            site: site.into(),
            host: host.into(),
            port,
            count,
            pick_ms,
            deliver_ms,
            wrong_scan_rate: 0.0,
            short_rate: 0.0,
            tote_full_rate: 0.0,
            offline: Vec::new(),
            seed: 1,
            walk: None,
            password: None,
        }
    }
}

/// A running simulated floor.
#[derive(Debug)]
pub struct Simulator {
    /// Address of the conveyor PLC.
    pub conveyor_addr: SocketAddr,
    /// Address of the sorter PLC.
    pub sorter_addr: SocketAddr,
    floor: Arc<Mutex<Floor>>,
    plcs: [Arc<PlcSlot>; 2],
    maps: (PlcMap, PlcMap),
    cancel: CancellationToken,
    tasks: JoinSet<()>,
    walked_mm: Arc<AtomicU64>,
}

/// One of the simulated PLCs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimPlc {
    /// The conveyor PLC.
    Conveyor,
    /// The sorter PLC.
    Sorter,
}

/// One simulated PLC's server: its address, image and faults, and the token that stops it.
#[derive(Debug)]
struct PlcSlot {
    addr: SocketAddr,
    image: SharedImage,
    faults: Arc<Faults>,
    stop: Mutex<CancellationToken>,
    /// Parent of every server token: cancelled at shutdown.
    root: CancellationToken,
}

impl PlcSlot {
    fn serve(&self, listener: TcpListener) {
        let stop = self.root.child_token();
        *self.stop.lock().unwrap_or_else(|p| p.into_inner()) = stop.clone();
        let service = PlcService::new(self.image.clone(), self.faults.clone());
        tokio::spawn(async move {
            if let Err(err) = plc_server::serve(listener, service, stop.cancelled_owned()).await {
                tracing::error!(%err, "simulated PLC server stopped");
            }
        });
    }

    /// Closes every connection and stops listening for `outage`, then listens again on the same
    /// address. The PLC logic keeps running.
    async fn cut(&self, outage: Duration) -> std::io::Result<()> {
        self.stop.lock().unwrap_or_else(|p| p.into_inner()).cancel();
        tokio::time::sleep(outage).await;
        let listener = TcpListener::bind(self.addr).await?;
        self.serve(listener);
        Ok(())
    }
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
        let maps = (cfg.conveyor_map.clone(), cfg.sorter_map.clone());
        let floor = Arc::new(Mutex::new(Floor::new(
            cfg.conveyor_map,
            cfg.sorter_map,
            cfg.timing,
        )));
        let cancel = CancellationToken::new();
        let mut tasks = JoinSet::new();
        let slot = |addr, image: &SharedImage| {
            Arc::new(PlcSlot {
                addr,
                image: image.clone(),
                faults: Arc::new(Faults::default()),
                stop: Mutex::new(CancellationToken::new()),
                root: cancel.clone(),
            })
        };
        let plcs = [slot(conveyor_addr, &conveyor), slot(sorter_addr, &sorter)];
        plcs[0].serve(conveyor_l);
        plcs[1].serve(sorter_l);
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
            plcs,
            maps,
            cancel,
            tasks,
            walked_mm: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Metres the virtual pickers have walked, all together (with a pick area to walk).
    pub fn walked_m(&self) -> f64 {
        self.walked_mm.load(Ordering::Relaxed) as f64 / 1000.0
    }

    fn slot(&self, plc: SimPlc) -> &Arc<PlcSlot> {
        match plc {
            SimPlc::Conveyor => &self.plcs[0],
            SimPlc::Sorter => &self.plcs[1],
        }
    }

    /// Takes a PLC off the network for `outage`: its server closes every connection and stops
    /// listening, then listens again on the same address. The PLC logic keeps running.
    pub async fn cut(&mut self, plc: SimPlc, outage: Duration) -> std::io::Result<()> {
        self.slot(plc).cut(outage).await
    }

    /// Makes a PLC answer every read with a Modbus exception (server device busy), or stop.
    pub fn refuse_reads(&self, plc: SimPlc, refuse: bool) {
        self.slot(plc)
            .faults
            .refuse_reads
            .store(refuse, std::sync::atomic::Ordering::Relaxed);
    }

    /// Makes a PLC answer every write with a Modbus exception (illegal function), or stop.
    pub fn refuse_writes(&self, plc: SimPlc, refuse: bool) {
        self.slot(plc)
            .faults
            .refuse_writes
            .store(refuse, std::sync::atomic::Ordering::Relaxed);
    }

    /// Makes a PLC answer every write as done and drop it, or stop.
    pub fn drop_writes(&self, plc: SimPlc, drop: bool) {
        self.slot(plc)
            .faults
            .drop_writes
            .store(drop, std::sync::atomic::Ordering::Relaxed);
    }

    /// Arms a PLC to die when the controller next writes the holding register of `signal`
    /// (after the write lands when `apply`, before it otherwise), and to come back after
    /// `outage`. Returns a handle that completes once the PLC is back.
    pub fn kill_on_write(
        &self,
        plc: SimPlc,
        signal: &str,
        apply: bool,
        outage: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let slot = self.slot(plc).clone();
        let map = match plc {
            SimPlc::Conveyor => &self.maps.0,
            SimPlc::Sorter => &self.maps.1,
        };
        let register = map
            .signal(signal)
            .unwrap_or_else(|| panic!("no signal `{signal}` in {}", map.model))
            .address;
        *slot.faults.trap.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Trap { register, apply });
        tokio::spawn(async move {
            slot.faults.sprung.notified().await;
            if let Err(err) = slot.cut(outage).await {
                tracing::error!(%err, "simulated PLC could not listen again");
            }
        })
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
                resync_ms: 2000,
                wrong_scan_rate: cfg.wrong_scan_rate,
                short_rate: cfg.short_rate,
                tote_full_rate: cfg.tote_full_rate,
                offline: cfg
                    .offline
                    .iter()
                    .find(|(n, _, _)| *n == i)
                    .map(|(_, at, dur)| (*at, *dur)),
                seed: cfg.seed,
                walk: cfg.walk.clone(),
                walked_mm: self.walked_mm.clone(),
                password: cfg
                    .password
                    .as_ref()
                    .map(|p| p.replace("{id}", &format!("h{i}"))),
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
        self.slot(plc)
            .image
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Writes one element of a signal into a PLC's image, as the PLC program would.
    pub fn write_signal(
        &self,
        plc: SimPlc,
        signal: &str,
        index: u16,
        value: &floorctl_protocol::value::Value,
    ) -> Result<(), String> {
        let map = match plc {
            SimPlc::Conveyor => &self.maps.0,
            SimPlc::Sorter => &self.maps.1,
        };
        let s = map
            .signal(signal)
            .ok_or_else(|| format!("no signal `{signal}` in {}", map.model))?;
        let mut img = self
            .slot(plc)
            .image
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        img.set_value(s, index, value).map_err(|e| e.to_string())
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
