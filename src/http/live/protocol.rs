//! The graphql-transport-ws protocol's messages and close codes
//! (github.com/enisdenjo/graphql-ws, PROTOCOL.md), read strictly: a message that is not
//! one of the protocol's, or breaks its rules, closes the connection with the code the
//! protocol gives for it.

use serde_json::{Map, Value, json};

/// A message from the client, checked.
#[derive(Debug, PartialEq)]
pub enum ClientMessage {
    /// `connection_init`, with its payload (an object, or none).
    Init(Map<String, Value>),
    Ping(Option<Value>),
    Pong,
    Subscribe {
        id: String,
        payload: Subscribe,
    },
    Complete {
        id: String,
    },
}

/// A `subscribe` message's payload.
#[derive(Debug, PartialEq)]
pub struct Subscribe {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Map<String, Value>,
    pub extensions: Map<String, Value>,
}

/// Why the connection closes, with the protocol's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

impl Close {
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }

    /// 4400: a message the protocol does not have, or one that breaks its rules.
    pub fn bad(reason: impl Into<String>) -> Self {
        Self::new(4400, reason)
    }

    /// 4401: a subscription before the connection was acknowledged.
    pub fn unauthorized() -> Self {
        Self::new(4401, "Unauthorized")
    }

    /// 4403: a `connection_init` refused.
    pub fn forbidden(reason: &str) -> Self {
        Self::new(4403, format!("Forbidden: {reason}"))
    }

    /// 4409: a subscription with the id of one still running.
    pub fn duplicate(id: &str) -> Self {
        Self::new(4409, format!("Subscriber for {id} already exists"))
    }

    /// 4429: a second `connection_init`.
    pub fn second_init() -> Self {
        Self::new(4429, "Too many initialisation requests")
    }
}

fn object(value: Option<&Value>, what: &str) -> Result<Map<String, Value>, Close> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(_) => Err(Close::bad(format!("{what} must be an object"))),
    }
}

fn id(message: &Map<String, Value>) -> Result<String, Close> {
    match message.get("id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => Err(Close::bad("the message needs an \"id\" string")),
    }
}

/// Reads a text frame as a protocol message.
pub fn parse(text: &str) -> Result<ClientMessage, Close> {
    let Ok(Value::Object(message)) = serde_json::from_str::<Value>(text) else {
        return Err(Close::bad("a message is a JSON object"));
    };
    let kind = message
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Close::bad("the message needs a \"type\""))?;
    match kind {
        "connection_init" => {
            // the payload is checked for what it must hold when the caller reads it
            match message.get("payload") {
                None | Some(Value::Null) => Ok(ClientMessage::Init(Map::new())),
                Some(Value::Object(map)) => Ok(ClientMessage::Init(map.clone())),
                Some(_) => Err(Close::forbidden(
                    "the connection_init payload must be an object",
                )),
            }
        }
        "ping" => Ok(ClientMessage::Ping(message.get("payload").cloned())),
        "pong" => Ok(ClientMessage::Pong),
        "subscribe" => {
            let id = id(&message)?;
            let payload = message
                .get("payload")
                .and_then(Value::as_object)
                .ok_or_else(|| Close::bad("subscribe needs a \"payload\" object"))?;
            let query = payload
                .get("query")
                .and_then(Value::as_str)
                .ok_or_else(|| Close::bad("subscribe needs a \"query\" string"))?
                .to_owned();
            let operation_name = match payload.get("operationName") {
                None | Some(Value::Null) => None,
                Some(Value::String(name)) => Some(name.clone()),
                Some(_) => return Err(Close::bad("operationName must be a string")),
            };
            Ok(ClientMessage::Subscribe {
                id,
                payload: Subscribe {
                    query,
                    operation_name,
                    variables: object(payload.get("variables"), "variables")?,
                    extensions: object(payload.get("extensions"), "extensions")?,
                },
            })
        }
        "complete" => Ok(ClientMessage::Complete { id: id(&message)? }),
        other => Err(Close::bad(format!(
            "unknown message type {:?}",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

/// The bearer credential a `connection_init` payload carries: `{"Authorization": "Bearer
/// <token>"}` or `{"token": "<token>"}`; none is anonymous. Any other shape of those
/// keys is refused (a number for a token is not taken as no token).
pub fn credential(payload: &Map<String, Value>) -> Result<Option<String>, Close> {
    for key in ["Authorization", "authorization"] {
        match payload.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(header)) => return Ok(Some(header.clone())),
            Some(_) => return Err(Close::forbidden("Authorization must be a string")),
        }
    }
    match payload.get("token") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(token)) => Ok(Some(format!("Bearer {token}"))),
        Some(_) => Err(Close::forbidden("token must be a string")),
    }
}

/// `{"type": "next", "id", "payload"}`.
pub fn next(id: &str, payload: &impl serde::Serialize) -> String {
    json!({"type": "next", "id": id, "payload": payload}).to_string()
}

/// `{"type": "error", "id", "payload": [errors]}`.
pub fn error(id: &str, errors: &impl serde::Serialize) -> String {
    json!({"type": "error", "id": id, "payload": errors}).to_string()
}

/// `{"type": "complete", "id"}`.
pub fn complete(id: &str) -> String {
    json!({"type": "complete", "id": id}).to_string()
}

pub fn ack() -> String {
    json!({"type": "connection_ack"}).to_string()
}

pub fn pong(payload: Option<Value>) -> String {
    match payload {
        Some(p) if !p.is_null() => json!({"type": "pong", "payload": p}).to_string(),
        _ => json!({"type": "pong"}).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{ClientMessage, Close, credential, parse};

    #[test]
    fn messages_are_read_strictly() {
        assert!(matches!(
            parse(r#"{"type":"connection_init"}"#),
            Ok(ClientMessage::Init(_))
        ));
        assert_eq!(parse("{not json").map_err(|c| c.code), Err(4400));
        assert_eq!(parse(r#"{"type":"hello"}"#).map_err(|c| c.code), Err(4400));
        assert_eq!(parse("[1]").map_err(|c| c.code), Err(4400));
        assert_eq!(
            parse(r#"{"type":"subscribe","id":"1","payload":{}}"#).map_err(|c| c.code),
            Err(4400)
        );
        assert_eq!(
            parse(r#"{"type":"subscribe","id":"","payload":{"query":"x"}}"#).map_err(|c| c.code),
            Err(4400)
        );
        assert_eq!(
            parse(r#"{"type":"connection_init","payload":"hello"}"#).map_err(|c| c.code),
            Err(4403)
        );
        let sub = parse(
            r#"{"type":"subscribe","id":"a","payload":{"query":"subscription { x }","variables":null}}"#,
        );
        assert!(matches!(sub, Ok(ClientMessage::Subscribe { id, .. }) if id == "a"));
    }

    #[test]
    fn a_credential_of_the_wrong_shape_is_refused_not_taken_as_none() {
        let of = |v: serde_json::Value| credential(v.as_object().expect("an object"));
        assert_eq!(of(json!({})), Ok(None));
        assert_eq!(
            of(json!({"token": "amt_x"})),
            Ok(Some("Bearer amt_x".to_owned()))
        );
        assert_eq!(
            of(json!({"Authorization": "Bearer amt_x"})),
            Ok(Some("Bearer amt_x".to_owned()))
        );
        assert_eq!(of(json!({"token": 12345})).map_err(|c| c.code), Err(4403));
        assert_eq!(
            of(json!({"Authorization": ["x"]})).map_err(|c| c.code),
            Err(4403)
        );
        assert_eq!(Close::duplicate("7").code, 4409);
    }
}
