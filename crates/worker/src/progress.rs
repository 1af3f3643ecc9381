//! Bridges the stages' synchronous [`Progress`] reports to the job row: the stage writes a
//! fraction, and a tick every couple of seconds records it (a database write per ffmpeg
//! progress line would be far too many).

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use clipforge_core::Progress;
use clipforge_store::renders;
use clipforge_store::{JobContext, RenderId, Store, WorkspaceId};

/// How often progress is written while a stage runs.
const TICK: Duration = Duration::from_secs(2);

/// The fraction of the running stage done, as the stage reports it.
#[derive(Debug, Default)]
pub(crate) struct Fraction(Mutex<f64>);

impl Fraction {
    fn get(&self) -> f64 {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Progress for Fraction {
    fn stage(&self, _name: &str) {}

    fn update(&self, done: f64, total: f64) {
        if total > 0.0 && done.is_finite() {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = (done / total).clamp(0.0, 1.0);
        }
    }
}

/// A render whose row also shows the progress.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RenderRow<'a> {
    pub store: &'a Store,
    pub workspace: WorkspaceId,
    pub render: RenderId,
}

/// Runs `work`, recording its progress mapped onto `from..to` percent under `step`.
pub(crate) async fn tracked<T>(
    ctx: &JobContext,
    from: u8,
    to: u8,
    step: &str,
    render: Option<RenderRow<'_>>,
    fraction: &Fraction,
    work: impl Future<Output = T>,
) -> T {
    report(ctx, from, step, render).await;
    let mut work = std::pin::pin!(work);
    let mut tick = tokio::time::interval(TICK);
    tick.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => {
                let span = f64::from(to.saturating_sub(from));
                let pct = from + (fraction.get() * span).round() as u8;
                report(ctx, pct, step, render).await;
            }
        }
    }
}

/// Records progress on the job (and the render); a failed write only costs a report.
pub(crate) async fn report(ctx: &JobContext, pct: u8, step: &str, render: Option<RenderRow<'_>>) {
    if let Err(e) = ctx.progress(pct, step).await {
        tracing::debug!(job = %ctx.job().id, error = %e, "progress not recorded");
    }
    if let Some(r) = render {
        if let Err(e) = renders::set_progress(r.store, r.workspace, r.render, pct, Some(step)).await
        {
            tracing::debug!(render = %r.render, error = %e, "render progress not recorded");
        }
    }
}
