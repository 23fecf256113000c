//! Event and schedule triggers, and the clock control.
//!
//! - Events: every message on `state.events` runs each function of its project subscribed to
//!   one of its event strings (`events::matches` over the full fan-out), with the payload as a
//!   JSON body and `x-appwrite-event` set. `functions.*` events never trigger (Appwrite's
//!   validator refuses such subscriptions), so executions cannot loop.
//! - Schedules: a task wakes every second and whenever `Engine::wake` is notified (clock moved,
//!   function or deployment changed), and runs each function whose next cron time has passed on
//!   the emulator's clock, once, then waits for the following one (missed runs are skipped, as
//!   Appwrite's scheduler does). The first due time counts from the function's last update, so a
//!   clock move made right after a deploy still fires. Executions created with `scheduledAt` run
//!   when the clock reaches it.
//! - `POST /_emulator/clock` `{"advance": seconds}` or `{"set": "<ISO date>"}` (with a configured
//!   API key in `X-Appwrite-Key`) moves the clock and wakes the scheduler; `GET` reads it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::executions::{self, Call, Trigger};
use super::store::{self, Doc, Table};
use super::validators::Schedule;
use crate::error::{types, ApiError};
use crate::events::EventMessage;
use crate::state::{AppState, Project};

pub fn start(state: AppState) {
    let mut rx = state.events.subscribe();
    let events_state = state.clone();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(msg) => {
                    let state = events_state.clone();
                    tokio::spawn(async move { on_event(&state, msg).await });
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("function triggers skipped {n} events (too many at once)");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    tokio::spawn(scheduler(state));
}

async fn on_event(state: &AppState, msg: EventMessage) {
    if msg.events.first().is_some_and(|e| e.starts_with("functions.")) {
        return;
    }
    let Some(project) = state.project(&msg.project_id) else { return };
    let subscribed = project
        .read(|tx| {
            let mut st = tx.prepare_cached(
                "SELECT doc FROM functions WHERE json_array_length(json_extract(doc, '$.events')) > 0 AND deployment_id != ''",
            )?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows.iter().map(|t| store::parse_doc(t)).collect::<Vec<Doc>>())
        })
        .await
        .unwrap_or_default();
    for f in subscribed {
        if !crate::events::matches(&store::list_of(&f, "events"), &msg.events) {
            continue;
        }
        let call = Call {
            trigger: Trigger::Event,
            method: "POST".into(),
            path: "/".into(),
            headers: vec![
                ("user-agent".into(), format!("Appwrite/{}", crate::format::SERVER_VERSION)),
                ("content-type".into(), "application/json".into()),
            ],
            body: Bytes::from(msg.payload.to_string()),
            user_id: msg.user_id.clone().unwrap_or_default(),
            user_jwt: String::new(),
            event: msg.events.first().cloned().unwrap_or_default(),
            client_ip: String::new(),
        };
        if let Err(e) = executions::run_trigger(state, &project, &store::str_of(&f, "$id"), call).await {
            tracing::warn!("event trigger failed: {e}");
        }
    }
}

fn schedule_call() -> Call {
    Call {
        trigger: Trigger::Schedule,
        method: "POST".into(),
        path: "/".into(),
        headers: vec![("user-agent".into(), format!("Appwrite/{}", crate::format::SERVER_VERSION))],
        body: Bytes::new(),
        user_id: String::new(),
        user_jwt: String::new(),
        event: String::new(),
        client_ip: String::new(),
    }
}

/// Next due time per (project, function), with the schedule it was computed for.
type Due = HashMap<(String, String), (String, Option<DateTime<Utc>>)>;

async fn scheduler(state: AppState) {
    let mut due: Due = HashMap::new();
    // Cron times that passed while the emulator was down are not replayed.
    let started = state.clock.now();
    loop {
        tokio::select! {
            _ = state.functions.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        let now = state.clock.now();
        let mut seen = Vec::new();
        for pid in state.project_ids() {
            let Some(project) = state.project(&pid) else { continue };
            if let Err(e) = tick(&state, &project, now, started, &mut due, &mut seen).await {
                tracing::warn!("scheduler: {e}");
            }
        }
        due.retain(|k, _| seen.contains(k));
    }
}

async fn tick(
    state: &AppState,
    project: &Arc<Project>,
    now: DateTime<Utc>,
    started: DateTime<Utc>,
    due: &mut Due,
    seen: &mut Vec<(String, String)>,
) -> Result<(), ApiError> {
    let scheduled = project
        .read(|tx| {
            let mut st = tx.prepare_cached("SELECT doc FROM functions WHERE schedule != '' AND deployment_id != ''")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows.iter().map(|t| store::parse_doc(t)).collect::<Vec<Doc>>())
        })
        .await?;
    for f in scheduled {
        if !store::bool_of(&f, "enabled") {
            continue;
        }
        let key = (project.id.clone(), store::str_of(&f, "$id"));
        seen.push(key.clone());
        let schedule = store::str_of(&f, "schedule");
        let Some(cron) = Schedule::parse(&schedule) else { continue };
        let entry = due.entry(key).or_insert_with(|| (String::new(), None));
        if entry.0 != schedule || entry.1.is_none() {
            let updated = crate::clock::parse_datetime(&store::str_of(&f, "$updatedAt")).unwrap_or(now);
            let since = updated.max(started).min(now);
            *entry = (schedule.clone(), cron.next_after(since));
        }
        if entry.1.is_some_and(|t| now >= t) {
            entry.1 = cron.next_after(now);
            executions::run_trigger(state, project, &store::str_of(&f, "$id"), schedule_call()).await?;
        }
    }
    // Executions created with `scheduledAt`: claim each due one exactly once.
    let now_iso = crate::clock::iso(now);
    let claimed = project
        .write(move |tx| {
            let mut st = tx.prepare_cached("SELECT doc FROM executions WHERE status = 'scheduled' AND scheduled_at <= ?1")?;
            let rows = st.query_map([&now_iso], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
            let mut out = Vec::new();
            for t in rows {
                let mut e = store::parse_doc(&t);
                e.insert("status".into(), json!("waiting"));
                store::put(tx, Table::Executions, &e)?;
                let fid = store::str_of(&e, "functionId");
                let f = store::get(tx, Table::Functions, &fid)?;
                let d = match &f {
                    Some(f) => store::get(tx, Table::Deployments, &store::str_of(f, "deploymentId"))?,
                    None => None,
                };
                out.push((e, f, d));
            }
            Ok(out)
        })
        .await?;
    for (execution, function, deployment) in claimed {
        let (Some(function), Some(deployment)) = (function, deployment) else { continue };
        let stored = execution.get("scheduledCall").cloned().unwrap_or(Value::Null);
        let mut call = schedule_call();
        call.method = stored["method"].as_str().unwrap_or("POST").to_string();
        call.path = stored["path"].as_str().unwrap_or("/").to_string();
        call.body = Bytes::from(stored["body"].as_str().unwrap_or("").to_string());
        call.user_id = stored["userId"].as_str().unwrap_or("").to_string();
        call.headers = stored["headers"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_str()?.to_string()))).collect())
            .unwrap_or_default();
        executions::run_in_background(state.clone(), project.clone(), function, deployment, execution, call);
    }
    Ok(())
}

fn clock_json(state: &AppState) -> Response {
    let body = json!({"now": state.clock.now_iso()});
    (StatusCode::OK, [("content-type", "application/json; charset=UTF-8")], body.to_string()).into_response()
}

/// `GET /_emulator/clock`: the emulator's current time.
pub async fn clock_get(State(state): State<AppState>) -> Response {
    clock_json(&state)
}

/// `POST /_emulator/clock`: moves the emulator's clock (tests prove schedules this way).
pub async fn clock(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers.get("x-appwrite-key").and_then(|v| v.to_str().ok()).unwrap_or("");
    if key.is_empty() || !state.is_admin_key(key) {
        return ApiError::msg(types::USER_UNAUTHORIZED, "Moving the clock requires one of the emulator's API keys in X-Appwrite-Key.").into_response();
    }
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(&body) else {
        return ApiError::msg(types::GENERAL_BAD_REQUEST, "Send a JSON object: {\"advance\": seconds} or {\"set\": \"<ISO 8601 date>\"}.").into_response();
    };
    if let Some(secs) = req.get("advance").and_then(Value::as_f64) {
        state.clock.advance(chrono::Duration::milliseconds((secs * 1000.0) as i64));
    } else if let Some(at) = req.get("set").and_then(Value::as_str) {
        let Some(t) = crate::clock::parse_datetime(at) else {
            return ApiError::msg(types::GENERAL_BAD_REQUEST, format!("Invalid date '{at}'.")).into_response();
        };
        state.clock.set(t);
    } else {
        return ApiError::msg(types::GENERAL_BAD_REQUEST, "Send {\"advance\": seconds} or {\"set\": \"<ISO 8601 date>\"}.").into_response();
    }
    state.functions.wake.notify_one();
    clock_json(&state)
}
