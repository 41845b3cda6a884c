//! The optional listener: `/healthz` for probes, `/metrics` for Prometheus.

use super::status::Status;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

type Shared = Arc<Mutex<Status>>;

fn snapshot(state: &Shared) -> Status {
    match state.lock() {
        Ok(s) => s.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

async fn healthz(State(state): State<Shared>) -> impl IntoResponse {
    let s = snapshot(&state);
    let body = serde_json::json!({
        "ready": s.ready,
        "last_run": s.last_status,
        "last_finished": s.last_finished.map(|t| t.to_rfc3339()),
        "next_run": s.next_run.map(|t| t.to_rfc3339()),
    });
    let code = if s.healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
}

async fn metrics(State(state): State<Shared>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        snapshot(&state).metrics(),
    )
}

/// Binds now (so a taken port is an error at start) and serves in the background.
pub async fn serve(addr: SocketAddr, state: Shared) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let app = axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the HTTP listener stopped");
        }
    });
    Ok(())
}
