//! `GET /graphql` and `GET /graphql/ws` with `Upgrade: websocket`: GraphQL
//! subscriptions over the `graphql-transport-ws` protocol, followed to the letter
//! (`protocol`): a subscription before `connection_ack` closes 4401, a message the
//! protocol does not have 4400, a subscription id already running 4409, a second
//! `connection_init` 4429, a `connection_init` whose credential is malformed or refused
//! 4403, silence past the initialisation timeout 4408.
//!
//! Each connection is bounded: the replica accepts a set number at once (more are
//! refused with 503 `RATE_LIMITED` before the upgrade), a connection holds a set number
//! of subscriptions, must send `connection_init` within a few seconds, and is closed
//! after a while with no subscription and no message. A client too slow for its changes
//! is closed with 4429 (see `graphql::changes` and the send timeout below), so a stalled
//! client never grows memory. Only subscriptions run here; queries and mutations go to
//! `POST /graphql`.

mod protocol;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_graphql::futures_util::stream::{self, AbortHandle, Abortable, BoxStream, SelectAll};
use async_graphql::futures_util::{SinkExt, StreamExt};
use async_graphql::parser::types::OperationType;
use async_graphql::{Data, Request, Response, ServerError, Variables};
use axum::body::Body;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, Response as HttpResponse, StatusCode, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use self::protocol::{ClientMessage, Close};
use super::HttpState;
use super::errors::error_response;
use super::graphql::{authenticate_bearer, check_query, code_errors};
use crate::config::defaults;
use crate::error::AppError;
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
            max_connections: defaults::MAX_LIVE_CONNECTIONS,
            max_subscriptions: defaults::MAX_SUBSCRIPTIONS_PER_CONNECTION,
            init_timeout: Duration::from_secs(defaults::LIVE_INIT_TIMEOUT_SECS),
            idle_timeout: Duration::from_secs(defaults::LIVE_IDLE_TIMEOUT_SECS),
            send_timeout: Duration::from_secs(defaults::LIVE_SEND_TIMEOUT_SECS),
        }
    }
}

/// `GET /graphql`: the live endpoint when the request asks to upgrade, else GraphiQL
/// (which never executes anything: a GET with a query is 405, POST it).
pub async fn graphql_get(
    state: State<HttpState>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> HttpResponse<Body> {
    if let Ok(upgrade) = upgrade {
        return self::upgrade(state, headers, upgrade).await;
    }
    let asks_to_run = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(key, _)| key == "query");
    if asks_to_run {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "INVALID_INPUT",
            "GET does not run queries: POST them to /graphql as JSON",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, axum::http::HeaderValue::from_static("POST"));
        return response;
    }
    super::web::graphiql(headers).await
}

pub async fn upgrade(
    State(state): State<HttpState>,
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

/// A subscription's next response, or its end (None).
type Item = (String, Option<Response>);

/// One connection's state: whether it was acknowledged, its running subscriptions.
struct Connection {
    state: HttpState,
    live: LiveConnection,
    /// The caller (once initialised) and the connection's limits, for every subscription.
    data: Arc<Data>,
    initialised: bool,
    running: HashMap<String, AbortHandle>,
    streams: SelectAll<BoxStream<'static, Item>>,
}

/// What the connection does next.
enum Step {
    Send(String),
    Nothing,
    Close(Close),
}

fn refusal(message: &str) -> Vec<ServerError> {
    let mut error = ServerError::new(message, None);
    error.extensions = None;
    let mut errors = vec![error];
    code_errors(&mut errors, "");
    errors
}

impl Connection {
    async fn handle(&mut self, message: ClientMessage) -> Step {
        match message {
            ClientMessage::Init(payload) => {
                if self.initialised {
                    return Step::Close(Close::second_init());
                }
                match protocol::credential(&payload) {
                    Err(close) => Step::Close(close),
                    Ok(credential) => match subscriber(&self.state, credential).await {
                        Ok(subscriber) => {
                            let mut data = Data::default();
                            data.insert(subscriber);
                            data.insert(self.live.clone());
                            self.data = Arc::new(data);
                            self.initialised = true;
                            Step::Send(protocol::ack())
                        }
                        Err(e) => Step::Close(Close::forbidden(&e.message())),
                    },
                }
            }
            ClientMessage::Ping(payload) => Step::Send(protocol::pong(payload)),
            ClientMessage::Pong => Step::Nothing,
            ClientMessage::Complete { id } => {
                if let Some(handle) = self.running.remove(&id) {
                    handle.abort();
                }
                Step::Nothing
            }
            ClientMessage::Subscribe { id, payload } => {
                if !self.initialised {
                    return Step::Close(Close::unauthorized());
                }
                if self.running.contains_key(&id) {
                    return Step::Close(Close::duplicate(&id));
                }
                self.subscribe(id, payload)
            }
        }
    }

    /// Starts a subscription, or answers why it cannot run with an `error` message.
    fn subscribe(&mut self, id: String, payload: protocol::Subscribe) -> Step {
        let mut request = Request::new(payload.query).variables(Variables::from_json(
            serde_json::Value::Object(payload.variables),
        ));
        request.operation_name = payload.operation_name;
        if let Err(message) = check_query(&mut request) {
            return Step::Send(protocol::error(&id, &refusal(&message)));
        }
        // a document that does not parse is answered by execution, with its position
        let not_a_subscription = request.parsed_query().is_ok_and(|doc| {
            doc.operations
                .iter()
                .any(|(_, op)| op.node.ty != OperationType::Subscription)
        });
        if not_a_subscription {
            return Step::Send(protocol::error(
                &id,
                &refusal(
                    "only subscriptions run here: send queries and mutations to POST /graphql",
                ),
            ));
        }
        let request = crate::graphql::loaders::for_request(request, &self.state.app.db);
        let (handle, registration) = AbortHandle::new_pair();
        self.running.insert(id.clone(), handle);
        let tag = id.clone();
        let responses = self
            .state
            .schema
            .execute_stream_with_session_data(request, self.data.clone())
            .map(move |mut response| {
                code_errors(&mut response.errors, "");
                (tag.clone(), Some(response))
            })
            .chain(stream::once(async move { (id.clone(), None) }));
        self.streams
            .push(Abortable::new(responses, registration).boxed());
        Step::Nothing
    }

    /// What a subscription's next item means for the client.
    fn item(&mut self, (id, response): Item) -> Step {
        let Some(response) = response else {
            // the subscription ended by itself (a client's complete aborts it instead)
            return if self.running.remove(&id).is_some() {
                Step::Send(protocol::complete(&id))
            } else {
                Step::Nothing
            };
        };
        if !self.running.contains_key(&id) {
            return Step::Nothing;
        }
        if super::graphql::media::is_request_error(&response) {
            // a document that did not validate: an error, and no complete after it
            if let Some(handle) = self.running.remove(&id) {
                handle.abort();
            }
            return Step::Send(protocol::error(&id, &response.errors));
        }
        Step::Send(protocol::next(&id, &response))
    }
}

/// The caller a `connection_init` credential names (see `protocol::credential`); none
/// is anonymous.
async fn subscriber(state: &HttpState, credential: Option<String>) -> Result<Subscriber, AppError> {
    let Some(header) = credential else {
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

fn close(close: &Close) -> Message {
    Message::Close(Some(CloseFrame {
        code: close.code,
        reason: close.reason.chars().take(100).collect::<String>().into(),
    }))
}

/// Why a slow client is closed, and what to do.
const TOO_SLOW: &str =
    "too slow: catch up from your last position with assetChanges, then subscribe again";

/// What the loop heard or decided next.
enum Event {
    Frame(Option<Result<Message, axum::Error>>),
    Item(Item),
    Tick,
    Stop,
}

async fn serve(socket: WebSocket, state: HttpState, _permit: OwnedSemaphorePermit) {
    let limits = state.live.clone();
    let (mut sink, mut source) = socket.split();
    let slots = Arc::new(Semaphore::new(limits.max_subscriptions));
    let fell_behind = Arc::new(AtomicBool::new(false));
    let live = LiveConnection {
        slots: slots.clone(),
        fell_behind: fell_behind.clone(),
    };
    let stop = state.stop.clone();
    let mut connection = Connection {
        state,
        live,
        data: Arc::new(Data::default()),
        initialised: false,
        running: HashMap::new(),
        streams: SelectAll::new(),
    };
    let opened = Instant::now();
    let mut heard = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        let event = tokio::select! {
            frame = source.next() => Event::Frame(frame),
            Some(item) = connection.streams.next(), if !connection.streams.is_empty() => Event::Item(item),
            _ = tick.tick() => Event::Tick,
            () = stop.cancelled() => Event::Stop,
        };
        let step = match event {
            Event::Frame(None) => break,
            Event::Frame(Some(Err(e))) => {
                let (code, reason) = close_for(&e.to_string());
                Step::Close(Close::new(code, reason))
            }
            Event::Frame(Some(Ok(frame))) => {
                heard = Instant::now();
                match frame {
                    Message::Text(text) => match protocol::parse(&text) {
                        Ok(message) => connection.handle(message).await,
                        Err(close) => Step::Close(close),
                    },
                    Message::Binary(_) => Step::Close(Close::bad(
                        "binary frames are not part of the protocol: send text",
                    )),
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => Step::Nothing,
                }
            }
            Event::Item(item) => connection.item(item),
            Event::Tick => {
                if !connection.initialised && opened.elapsed() > limits.init_timeout {
                    Step::Close(Close::new(4408, "Connection initialisation timeout"))
                } else if connection.running.is_empty()
                    && slots.available_permits() == limits.max_subscriptions
                    && heard.elapsed() > limits.idle_timeout
                {
                    Step::Close(Close::new(
                        1000,
                        "closed after a while with no subscription",
                    ))
                } else {
                    Step::Nothing
                }
            }
            Event::Stop => Step::Close(Close::new(1001, "the server is shutting down")),
        };
        let outgoing = match step {
            Step::Nothing => continue,
            Step::Send(text) => Message::Text(text.into()),
            Step::Close(c) => close(&c),
        };
        let closing = matches!(outgoing, Message::Close(_));
        match tokio::time::timeout(limits.send_timeout, sink.send(outgoing)).await {
            Ok(Ok(())) if !closing => {}
            Ok(_) => break,
            Err(_) => {
                // the client stopped reading: say why if its socket still takes it, and go
                tracing::info!("closing a live connection whose client stopped reading");
                let slow = close(&Close::new(4429, TOO_SLOW));
                let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(slow)).await;
                break;
            }
        }
        if fell_behind.load(Ordering::Acquire) {
            tracing::info!("closing a live connection whose subscription fell behind");
            let slow = close(&Close::new(4429, TOO_SLOW));
            let _ = tokio::time::timeout(limits.send_timeout, sink.send(slow)).await;
            break;
        }
    }
    for (_, handle) in connection.running.drain() {
        handle.abort();
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}
