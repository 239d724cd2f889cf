//! Requests about the worker itself: the hardware probe, the engine self-test, and GPU loss injection.

use crate::job::JobCtx;
use crate::protocol::{JobResult, SystemRequest, WorkerError};

pub async fn run(ctx: &JobCtx, request: SystemRequest) -> Result<JobResult, WorkerError> {
    match request {
        SystemRequest::Probe => {
            let mut probe = crate::probe::probe_gpu().await;
            crate::selftest::measure(&mut probe).await;
            Ok(JobResult::Probe(probe))
        }
        SystemRequest::SelfTest {
            backend,
            iterations,
        } => crate::selftest::run(ctx, backend, iterations).await,
        SystemRequest::HoldLifeLock { name } => {
            crate::js::hold_lock_while_alive(&name)
                .await
                .map_err(|e| WorkerError::new(crate::protocol::ErrorKind::Internal, e))?;
            Ok(JobResult::LifeLockHeld)
        }
        SystemRequest::LoseGpu => {
            if ctx.registry.lose_gpu().await {
                Ok(JobResult::GpuLost)
            } else {
                Err(WorkerError::new(
                    crate::protocol::ErrorKind::BadInput,
                    "There is no GPU device to lose: no model has used the GPU yet.",
                ))
            }
        }
    }
}
