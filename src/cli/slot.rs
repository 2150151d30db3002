//! `floorctl slot plan|apply`: the forward area, planned from demand and installed on a running
//! controller.

use std::path::PathBuf;

use super::remote::Remote;

#[derive(Debug, clap::Subcommand)]
pub(super) enum SlotCmd {
    /// Choose the SKUs for the forward area and size their space (fluid model); the last two
    /// lines are `skus_forward: N` and `benefit: X`.
    Plan(Box<floorctl::slot::PlanOptions>),
    /// Install a plan (as `slot plan --out` writes it) as the forward area of a running
    /// controller (token in FLOORCTL_TOKEN): each SKU's space in units is its face's maximum,
    /// the units it sells in the lead time its refill point.
    Apply(ApplyArgs),
}

#[derive(Debug, clap::Args)]
pub(super) struct ApplyArgs {
    /// The plan: sku, flow (volume a day), volume, optional unit_volume and location.
    plan: PathBuf,
    /// Free forward locations, best first (CSV with a `location` column), for the plan's SKUs
    /// without a location, in the plan's order.
    #[arg(long)]
    locations: Option<PathBuf>,
    /// Hours a refill takes from reserve to face: the refill point covers them.
    #[arg(long, default_value_t = 2.0)]
    lead_time_hours: f64,
    /// Print the faces and install nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    remote: Remote,
}

pub(super) async fn run(cmd: SlotCmd) -> anyhow::Result<()> {
    match cmd {
        SlotCmd::Plan(opts) => Ok(floorctl::slot::plan(&opts).await?),
        SlotCmd::Apply(args) => {
            let faces = floorctl::slot::apply::faces(
                &args.plan,
                args.locations.as_deref(),
                args.lead_time_hours,
            )?;
            if args.dry_run {
                println!("location,sku,min,max");
                for f in &faces {
                    println!("{},{},{},{}", f.location, f.sku, f.min, f.max);
                }
                return Ok(());
            }
            args.remote.install_faces(&faces).await
        }
    }
}
