//! `floorctl slot plan`: reads SKU demand (or order history and an item master) from CSV/TSV,
//! plans the forward area, prints the plan and writes it per SKU.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use floorctl_core::slotting::fluid::{self, Allocation, Costs, Plan, PlanError, SkuDemand};
use floorctl_core::slotting::velocity::{self, Line};

use crate::store::StoreError;

pub mod apply;

/// Why a plan was not made.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    /// The options do not say what to plan from, or how.
    #[error("{0}")]
    Options(String),
    /// An input file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: csv::Error,
    },
    /// The plan cannot be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: csv::Error,
    },
    /// A column the options name is not in the file.
    #[error("{path}: no column `{name}` (columns: {columns}); name it with the matching --…-column flag")]
    NoColumn {
        /// The file.
        path: String,
        /// The column asked for.
        name: String,
        /// The columns it has.
        columns: String,
    },
    /// Rows that cannot be read, the first 20 listed.
    #[error("{path} has {count} bad row(s):\n  - {shown}")]
    BadRows {
        /// The file.
        path: String,
        /// How many.
        count: usize,
        /// The first ones, one a line.
        shown: String,
    },
    /// The database named does not exist.
    #[error("{0} does not exist")]
    NoDatabase(String),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The demand cannot be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// Column names of the inputs.
#[derive(Debug, Clone, clap::Args)]
pub struct Columns {
    /// SKU column.
    #[arg(long, default_value = "sku")]
    pub sku_column: String,
    /// Picks-per-period column (SKU file).
    #[arg(long, default_value = "picks")]
    pub picks_column: String,
    /// Flow-per-period column (SKU file).
    #[arg(long, default_value = "flow")]
    pub flow_column: String,
    /// Optional least-space column (SKU file).
    #[arg(long, default_value = "min")]
    pub min_column: String,
    /// Optional most-space column (SKU file).
    #[arg(long, default_value = "max")]
    pub max_column: String,
    /// Date column (order lines; dd/mm/yyyy or yyyy-mm-dd).
    #[arg(long, default_value = "date")]
    pub date_column: String,
    /// Order column (order lines).
    #[arg(long, default_value = "order")]
    pub order_column: String,
    /// Units column (order lines).
    #[arg(long, default_value = "units")]
    pub units_column: String,
    /// Unit volume column (item master).
    #[arg(long, default_value = "unit_volume")]
    pub volume_column: String,
}

/// `floorctl slot plan` options.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanOptions {
    /// SKU demand CSV: sku, picks, flow per period (optional min, max).
    #[arg(
        long,
        conflicts_with_all = ["order_lines", "database"],
        required_unless_present_any = ["order_lines", "database"]
    )]
    pub skus: Option<PathBuf>,
    /// Order history (CSV or TSV: date, order, sku, units); picks and flow are derived per day.
    #[arg(long, conflicts_with = "database")]
    pub order_lines: Option<PathBuf>,
    /// The controller's own database: its journalled orders are the history.
    #[arg(long)]
    pub database: Option<PathBuf>,
    /// Item master with unit volumes (with order history); SKUs absent from it count 1.
    #[arg(long)]
    pub item_master: Option<PathBuf>,
    /// Half-life in days for weighting order history toward recent days (default: none).
    #[arg(long)]
    pub half_life: Option<f64>,
    /// Forward volume.
    #[arg(long)]
    pub volume: f64,
    /// Saving per pick served forward.
    #[arg(long)]
    pub saving_per_pick: f64,
    /// Cost of one restock.
    #[arg(long)]
    pub restock_cost: f64,
    /// How space is shared: optimal (square root of flow), equal-space or equal-time.
    #[arg(long, default_value = "optimal")]
    pub policy: String,
    /// Write the per-SKU plan here as CSV.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub columns: Columns,
}

/// Runs `slot plan`, printing the summary with `skus_forward` and `benefit` last.
pub async fn plan(o: &PlanOptions) -> Result<(), SlotError> {
    let Some(rule) = Allocation::from_name(&o.policy) else {
        return Err(SlotError::Options(format!(
            "--policy `{}` is not one of optimal, equal-space, equal-time",
            o.policy
        )));
    };
    let c = &o.columns;
    let history = match (&o.order_lines, &o.database) {
        (Some(path), _) => Some(read_lines(path, c)?),
        (None, Some(db)) => Some(journal_lines(db).await?),
        (None, None) => None,
    };
    let mut volumes = BTreeMap::new();
    let (skus, period) = match (&o.skus, history) {
        (Some(path), _) => (read_skus(path, c)?, "period"),
        (None, Some(history)) => {
            if let Some(p) = &o.item_master {
                volumes = read_volumes(p, c)?;
            }
            let v = velocity::velocities(&history, o.half_life.unwrap_or(f64::INFINITY), &|sku| {
                volumes.get(sku).copied().unwrap_or(1.0)
            });
            let missing = v.keys().filter(|s| !volumes.contains_key(*s)).count();
            let days = history.iter().map(|l| l.day).max().unwrap_or(0)
                - history.iter().map(|l| l.day).min().unwrap_or(0)
                + 1;
            println!(
                "order lines: {} lines, {} SKUs over {days} days; picks and flow are per day",
                history.len(),
                v.len()
            );
            println!(
                "unit volume: 1 for {missing} of {} SKUs (not in an item master)",
                v.len()
            );
            (velocity::demands(&v), "day")
        }
        (None, None) => {
            return Err(SlotError::Options(
                "give --skus FILE, --order-lines FILE or --database FILE".into(),
            ))
        }
    };
    let costs = Costs {
        volume: o.volume,
        saving_per_pick: o.saving_per_pick,
        restock_cost: o.restock_cost,
    };
    let p = fluid::plan(&skus, &costs, rule)?;
    println!("policy: {rule}");
    println!("skus: {}", skus.len());
    println!("picks forward per {period}: {:.3}", p.picks_forward);
    println!("restocks per {period}: {:.3}", p.restocks);
    if let Some(out) = &o.out {
        write_plan(out, &skus, &p, &|sku| {
            volumes.get(sku).copied().unwrap_or(1.0)
        })?;
        println!("plan written to {}", out.display());
    }
    println!("skus_forward: {}", p.slots.len());
    println!("benefit: {:.3}", p.benefit);
    Ok(())
}

/// Writes the plan, best SKU first: `sku, picks, flow, volume, restocks, unit_volume` (what
/// `floorctl slot apply` reads back, with a `location` column a person may add).
fn write_plan(
    out: &Path,
    skus: &[SkuDemand],
    p: &Plan,
    unit_volume: &dyn Fn(&str) -> f64,
) -> Result<(), SlotError> {
    let error = |source| SlotError::Write {
        path: out.display().to_string(),
        source,
    };
    let mut w = csv::Writer::from_path(out).map_err(error)?;
    w.write_record(["sku", "picks", "flow", "volume", "restocks", "unit_volume"])
        .map_err(error)?;
    for s in &p.slots {
        let d = &skus[s.index];
        w.write_record([
            d.sku.clone(),
            d.picks.to_string(),
            d.flow.to_string(),
            format!("{:.6}", s.volume),
            format!("{:.6}", s.restocks),
            unit_volume(&d.sku).to_string(),
        ])
        .map_err(error)?;
    }
    w.flush().map_err(|e| error(e.into()))?;
    Ok(())
}

/// A CSV or TSV file (tab when the header has one) with its header's column positions.
struct Table {
    reader: csv::Reader<std::fs::File>,
    header: Vec<String>,
    path: PathBuf,
}

impl Table {
    fn open(path: &Path) -> Result<Table, SlotError> {
        let error = |source| SlotError::Read {
            path: path.display().to_string(),
            source,
        };
        // The header line tells the delimiter; the rows are streamed after.
        let mut first = String::new();
        std::fs::File::open(path)
            .and_then(|f| {
                use std::io::{BufRead as _, Read as _};
                std::io::BufReader::new(f.take(64 * 1024)).read_line(&mut first)
            })
            .map_err(|e| error(e.into()))?;
        let delimiter = if first.contains('\t') { b'\t' } else { b',' };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(false)
            .from_path(path)
            .map_err(error)?;
        let header = reader
            .headers()
            .map_err(error)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        Ok(Table {
            reader,
            header,
            path: path.to_path_buf(),
        })
    }

    fn column(&self, name: &str) -> Result<usize, SlotError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| SlotError::NoColumn {
                path: self.path.display().to_string(),
                name: name.to_string(),
                columns: self.header.join(", "),
            })
    }

    fn optional(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Every row as fields, with its line number; every bad row is reported at once by `each`.
    fn rows<T>(
        mut self,
        mut each: impl FnMut(&csv::StringRecord) -> Result<T, String>,
    ) -> Result<Vec<T>, SlotError> {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        for (n, row) in self.reader.records().enumerate() {
            let line = n + 2;
            match row.map_err(|e| e.to_string()).and_then(|r| each(&r)) {
                Ok(v) => out.push(v),
                Err(e) => problems.push(format!("line {line}: {e}")),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            let shown: Vec<&str> = problems.iter().take(20).map(String::as_str).collect();
            Err(SlotError::BadRows {
                path: self.path.display().to_string(),
                count: problems.len(),
                shown: shown.join("\n  - "),
            })
        }
    }
}

fn number(r: &csv::StringRecord, i: usize, what: &str) -> Result<f64, String> {
    let text = r.get(i).unwrap_or("").trim();
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{what} `{text}` is not a number"))
}

fn read_skus(path: &Path, c: &Columns) -> Result<Vec<SkuDemand>, SlotError> {
    let t = Table::open(path)?;
    let (sku, picks, flow) = (
        t.column(&c.sku_column)?,
        t.column(&c.picks_column)?,
        t.column(&c.flow_column)?,
    );
    let (min, max) = (t.optional(&c.min_column), t.optional(&c.max_column));
    t.rows(|r| {
        let bound = |i: Option<usize>, what, default| match i.and_then(|i| r.get(i)).map(str::trim)
        {
            None | Some("") => Ok(default),
            Some(_) => number(r, i.expect("present"), what),
        };
        Ok(SkuDemand {
            sku: r.get(sku).unwrap_or("").trim().to_string(),
            picks: number(r, picks, "picks")?,
            flow: number(r, flow, "flow")?,
            min: bound(min, "min", 0.0)?,
            max: bound(max, "max", f64::INFINITY)?,
        })
    })
}

/// Reads order lines (date, order, sku, units; CSV or TSV).
pub fn read_lines(path: &Path, c: &Columns) -> Result<Vec<Line>, SlotError> {
    let t = Table::open(path)?;
    let (date, order, sku, units) = (
        t.column(&c.date_column)?,
        t.column(&c.order_column)?,
        t.column(&c.sku_column)?,
        t.column(&c.units_column)?,
    );
    t.rows(|r| {
        let d = r.get(date).unwrap_or("");
        Ok(Line {
            day: velocity::parse_day(d)
                .ok_or_else(|| format!("date `{d}` is not dd/mm/yyyy or yyyy-mm-dd"))?,
            order: r.get(order).unwrap_or("").trim().to_string(),
            sku: r.get(sku).unwrap_or("").trim().to_string(),
            units: number(r, units, "units")?,
        })
    })
}

/// The order lines the controller journalled, each on the day it was received.
pub async fn journal_lines(db: &Path) -> Result<Vec<Line>, SlotError> {
    if !db.exists() {
        return Err(SlotError::NoDatabase(db.display().to_string()));
    }
    let store = crate::store::Store::open(db).await?;
    let journal = store.journal().await;
    store.close().await;
    Ok(lines_of(&journal?))
}

/// Order lines from journal entries: every received order's lines, on its day (UTC).
pub fn lines_of(journal: &[crate::store::Entry]) -> Vec<Line> {
    velocity::order_lines(journal.iter().filter_map(|e| match &e.event {
        floorctl_core::Event::OrderReceived { order } => Some((e.at, order)),
        _ => None,
    }))
}

fn read_volumes(path: &Path, c: &Columns) -> Result<BTreeMap<String, f64>, SlotError> {
    let t = Table::open(path)?;
    let (sku, vol) = (t.column(&c.sku_column)?, t.column(&c.volume_column)?);
    Ok(t.rows(|r| {
        Ok((
            r.get(sku).unwrap_or("").trim().to_string(),
            number(r, vol, "unit volume")?,
        ))
    })?
    .into_iter()
    .collect())
}
