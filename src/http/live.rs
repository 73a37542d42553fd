//! `GET /graphql/ws`: GraphQL subscriptions over the `graphql-transport-ws` protocol.
//!
//! Each connection is bounded: the replica accepts a set number at once (more are
//! refused with 503 `RATE_LIMITED` before the upgrade), a connection holds a set number
//! of subscriptions, must send `connection_init` within a few seconds, and is closed
//! after a while with no subscription and no message. A subscriber too slow to keep up
//! is cut off (see `graphql::changes`), so a stalled client never grows memory. Only
//! subscriptions run here; queries and mutations go to `POST /graphql`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::futures_util::stream::{self, BoxStream};
use async_graphql::futures_util::{SinkExt, Stream, StreamExt, future};
use async_graphql::http::{WebSocketProtocols, WsMessage};
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Executor, Request, Response, ServerError};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, Response as HttpResponse, StatusCode, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::AppState;
use super::errors::error_response;
use super::graphql::{authenticate_bearer, check_query, code_errors};
use crate::error::AppError;
use crate::graphql::AppSchema;
use crate::graphql::changes::{LiveConnection, Subscriber};

/// The largest message a client may send.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Limits of live connections.
#[derive(Clone, Debug)]
pub struct LiveConfig {
    /// Connections this replica holds at once.
    pub max_connections: usize,
    /// Subscriptions one connection holds at once.
    pub max_subscriptions: usize,
    /// How long a connection may take to send `connection_init`.
    pub init_timeout: Duration,
    /// How long a connection may stay with no subscription and no message from its
    /// client.
    pub idle_timeout: Duration,
    /// How long one message may wait to be taken by the client's socket: a client that
    /// stops reading is closed (4429) after this, and everything held for it freed.
    pub send_timeout: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            max_connections: 2_000,
            max_subscriptions: 20,
            init_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_mins(5),
            send_timeout: Duration::from_secs(5),
        }
    }
}

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> HttpResponse<Body> {
    let speaks = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == "graphql-transport-ws");
    if !speaks {
        return error_response(
            StatusCode::BAD_REQUEST,
            "INVALID_INPUT",
            "speak the graphql-transport-ws protocol (Sec-WebSocket-Protocol: graphql-transport-ws)",
        );
    }
    let Ok(permit) = state.live_connections.clone().try_acquire_owned() else {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "RATE_LIMITED",
            "this replica holds as many live connections as it may; try again later",
        );
    };
    upgrade
        .protocols(["graphql-transport-ws"])
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(16 * 1024)
        .write_buffer_size(16 * 1024)
        .on_upgrade(move |socket| serve(socket, state, permit))
}

/// Runs subscriptions for one connection: only subscriptions, each with the request's
/// loaders, the query limits of `POST /graphql`, and every error coded.
#[derive(Clone)]
struct Subscriptions {
    schema: AppSchema,
    db: crate::db::Db,
}

fn refused(message: &str) -> Response {
    let mut error = ServerError::new(message, None);
    error.extensions = None;
    let mut response = Response::from_errors(vec![error]);
    code_errors(&mut response.errors, "");
    response
}

impl Executor for Subscriptions {
    async fn execute(&self, _request: Request) -> Response {
        refused("send queries and mutations to POST /graphql")
    }

    fn execute_stream(
        &self,
        mut request: Request,
        data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        if let Err(message) = check_query(&mut request) {
            return stream::once(future::ready(refused(&message))).boxed();
        }
        let only_subscriptions = request.parsed_query().is_ok_and(|doc| {
            doc.operations
                .iter()
                .all(|(_, op)| op.node.ty == OperationType::Subscription)
        });
        if !only_subscriptions {
            return stream::once(future::ready(refused(
                "only subscriptions run here: send queries and mutations to POST /graphql",
            )))
            .boxed();
        }
        let request = crate::graphql::loaders::for_request(request, &self.db);
        self.schema
            .execute_stream_with_session_data(request, data.unwrap_or_default())
            .map(|mut response| {
                code_errors(&mut response.errors, "");
                response
            })
            .boxed()
    }
}

/// The caller a `connection_init` payload names: `{"Authorization": "Bearer <token>"}`
/// (or `{"token": "<token>"}`); none is anonymous.
async fn subscriber(state: &AppState, payload: &serde_json::Value) -> Result<Subscriber, AppError> {
    let header = ["Authorization", "authorization"]
        .iter()
        .find_map(|k| payload.get(*k).and_then(serde_json::Value::as_str))
        .map(str::to_owned)
        .or_else(|| {
            payload
                .get("token")
                .and_then(serde_json::Value::as_str)
                .map(|t| format!("Bearer {t}"))
        });
    let Some(header) = header else {
        return Ok(Subscriber::anonymous());
    };
    let principal = authenticate_bearer(state, &header).await?;
    let token = header.get(7..).unwrap_or_default().trim().to_owned();
    let token_id = principal
        .get()
        .and_then(|a| a.id.strip_prefix("token:"))
        .and_then(|id| uuid::Uuid::parse_str(id).ok());
    let jwt = match (&state.jwt, token_id) {
        (Some(verifier), None) => Some((token, verifier.clone())),
        _ => None,
    };
    Ok(Subscriber {
        principal,
        token_id,
        jwt,
    })
}

/// The close code for a client's broken frame (tungstenite's error, as text).
fn close_for(error: &str) -> (u16, &'static str) {
    if error.contains("Space limit exceeded") {
        (1009, "message too big (64 KiB at most)")
    } else if error.contains("UTF-8") || error.contains("utf-8") {
        (1007, "text that is not UTF-8")
    } else {
        (1002, "not a valid WebSocket frame")
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.chars().take(100).collect::<String>().into(),
    }))
}

/// When the client was last heard from, and why its side ended if it broke a rule (to
/// be answered with the matching close).
#[derive(Clone)]
struct Heard {
    at: Arc<Mutex<Instant>>,
    broken: Arc<Mutex<Option<(u16, &'static str)>>>,
}

impl Heard {
    fn now() -> Self {
        Self {
            at: Arc::new(Mutex::new(Instant::now())),
            broken: Arc::default(),
        }
    }

    fn idle_for(&self) -> Option<Duration> {
        self.at.lock().ok().map(|at| at.elapsed())
    }

    fn broken(&self) -> Option<(u16, &'static str)> {
        self.broken.lock().ok().and_then(|b| *b)
    }
}

/// The client's data messages, until its side ends or breaks a rule (noted in `heard`).
fn incoming(
    source: impl Stream<Item = Result<Message, axum::Error>>,
    heard: &Heard,
) -> impl Stream<Item = Bytes> {
    let (broke, seen) = (heard.broken.clone(), heard.at.clone());
    source
        .take_while(move |m| {
            if let Err(e) = m
                && let Ok(mut broke) = broke.lock()
            {
                *broke = Some(close_for(&e.to_string()));
            }
            future::ready(m.is_ok())
        })
        .filter_map(|m| {
            future::ready(match m {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        })
        .inspect(move |_| {
            if let Ok(mut at) = seen.lock() {
                *at = Instant::now();
            }
        })
}

async fn serve(socket: WebSocket, state: AppState, _permit: OwnedSemaphorePermit) {
    let limits = state.live.clone();
    let (mut sink, source) = socket.split();
    let heard = Heard::now();
    let input = incoming(source, &heard);
    let slots = Arc::new(Semaphore::new(limits.max_subscriptions));
    let fell_behind = Arc::new(AtomicBool::new(false));
    let mut data = Data::default();
    data.insert(LiveConnection {
        slots: slots.clone(),
        fell_behind: fell_behind.clone(),
    });
    let initialised = Arc::new(AtomicBool::new(false));
    let on_init = {
        let (state, initialised) = (state.clone(), initialised.clone());
        move |payload: serde_json::Value| async move {
            let subscriber = subscriber(&state, &payload)
                .await
                .map_err(|e| async_graphql::Error::new(format!("Forbidden: {}", e.message())))?;
            initialised.store(true, Ordering::Release);
            let mut data = Data::default();
            data.insert(subscriber);
            Ok(data)
        }
    };
    let executor = Subscriptions {
        schema: state.schema.clone(),
        db: state.db.clone(),
    };
    let messages =
        async_graphql::http::WebSocket::new(executor, input, WebSocketProtocols::GraphQLWS)
            .connection_data(data)
            .on_connection_init(on_init);
    tokio::pin!(messages);
    let opened = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let stop = state.stop.clone();
    loop {
        let outgoing = tokio::select! {
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                // a refused connection_init: Forbidden, as the protocol recommends
                Some(WsMessage::Close(1002, reason)) if reason.starts_with("Forbidden") => close(4403, &reason),
                Some(WsMessage::Close(code, reason)) => close(code, &reason),
                None => match heard.broken() {
                    Some((code, reason)) => close(code, reason),
                    None => break,
                },
            },
            _ = tick.tick() => {
                if !initialised.load(Ordering::Acquire) && opened.elapsed() > limits.init_timeout {
                    close(4408, "Connection initialisation timeout")
                } else if slots.available_permits() == limits.max_subscriptions
                    && heard.idle_for().is_some_and(|idle| idle > limits.idle_timeout)
                {
                    close(1000, "closed after a while with no subscription")
                } else {
                    continue;
                }
            }
            () = stop.cancelled() => close(1001, "the server is shutting down"),
        };
        let closing = matches!(outgoing, Message::Close(_));
        match tokio::time::timeout(limits.send_timeout, sink.send(outgoing)).await {
            Ok(Ok(())) if !closing => {}
            Ok(_) => break,
            Err(_) => {
                // the client stopped reading: say why if its socket still takes it, and go
                tracing::info!("closing a live connection whose client stopped reading");
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), sink.send(close(4429, TOO_SLOW)))
                        .await;
                break;
            }
        }
        if fell_behind.load(Ordering::Acquire) {
            tracing::info!("closing a live connection whose subscription fell behind");
            let _ =
                tokio::time::timeout(limits.send_timeout, sink.send(close(4429, TOO_SLOW))).await;
            break;
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

/// Why a slow client is closed, and what to do.
const TOO_SLOW: &str =
    "too slow: catch up from your last position with assetChanges, then subscribe again";
