//! A graphql-transport-ws client for the tests: connect, init, subscribe, read.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Live {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What the server said next.
#[derive(Debug)]
pub enum Said {
    Message(Value),
    Closed(u16, String),
}

impl Live {
    /// Opens `/graphql/ws` speaking graphql-transport-ws (nothing sent yet).
    pub async fn open(base: &str) -> Self {
        let url = format!("{}/graphql/ws", base.replacen("http://", "ws://", 1));
        let mut request = url.into_client_request().expect("a request");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the upgrade is accepted");
        Self { ws }
    }

    /// Opens and initialises, with a token or anonymously, expecting `connection_ack`.
    pub async fn connect(base: &str, token: Option<&str>) -> Self {
        let mut live = Self::open(base).await;
        live.init(token).await;
        match live.next().await {
            Said::Message(m) if m["type"] == "connection_ack" => live,
            other => panic!("expected connection_ack, got {other:?}"),
        }
    }

    pub async fn init(&mut self, token: Option<&str>) {
        let payload = token.map_or(
            json!({}),
            |t| json!({"Authorization": format!("Bearer {t}")}),
        );
        self.send(json!({"type": "connection_init", "payload": payload}))
            .await;
    }

    pub async fn send(&mut self, message: Value) {
        self.ws
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("sent");
    }

    pub async fn send_raw(&mut self, message: Message) -> Result<(), tungstenite::Error> {
        self.ws.send(message).await
    }

    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"type": "subscribe", "id": id,
            "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The next message (pings answered), or the close; panics after 10 s of silence.
    pub async fn next(&mut self) -> Said {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("the server says something within 10 s")
    }

    /// The next message, or None if nothing comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Said> {
        loop {
            let frame = tokio::time::timeout(wait, self.ws.next()).await.ok()?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).expect("JSON");
                    if message["type"] == "ping" {
                        self.send(json!({"type": "pong"})).await;
                        continue;
                    }
                    return Some(Said::Message(message));
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    });
                    return Some(Said::Closed(code, reason));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Some(Said::Closed(1006, String::new())),
            }
        }
    }

    /// The next `next` payload for subscription `id` (passing over `complete` messages of
    /// ended subscriptions), panicking on anything else.
    pub async fn event(&mut self, id: &str) -> Value {
        loop {
            match self.next().await {
                Said::Message(m) if m["type"] == "next" && m["id"] == id => {
                    return m["payload"].clone();
                }
                Said::Message(m) if m["type"] == "complete" => {}
                other => panic!("expected an event for {id}, got {other:?}"),
            }
        }
    }

    /// The `error` message for subscription `id` (a subscription that could not start:
    /// its document does not parse or validate, or breaks a limit), as `{"errors": [...]}`.
    pub async fn error(&mut self, id: &str) -> Value {
        loop {
            match self.next().await {
                Said::Message(m) if m["type"] == "error" && m["id"] == id => {
                    return json!({"errors": m["payload"]});
                }
                Said::Message(m) if m["type"] == "complete" => {}
                other => panic!("expected an error for {id}, got {other:?}"),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self
            .ws
            .close(Some(tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "done".into(),
            }))
            .await;
    }
}
