//! `floorctl slot plan`: the forward area.

#[derive(Debug, clap::Subcommand)]
pub(super) enum SlotCmd {
    /// Choose the SKUs for the forward area and size their space (fluid model); the last two
    /// lines are `skus_forward: N` and `benefit: X`.
    Plan(floorctl::slot::PlanOptions),
}

pub(super) async fn run(cmd: SlotCmd) -> anyhow::Result<()> {
    match cmd {
        SlotCmd::Plan(opts) => Ok(floorctl::slot::plan(&opts).await?),
    }
}
