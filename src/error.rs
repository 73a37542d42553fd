//! The one application error type: its stable code (`extensions.code`), its HTTP status,
//! and the one JSON body every surface answers it with.
//!
//! Every error that reaches a client carries `extensions.code`. Internal causes (database
//! errors, I/O) are logged once, where the error leaves for a client, with a fresh error
//! id, and answered as `INTERNAL` with that id only: no SQL, paths or hostnames ever reach
//! a response. Towards the command line an `AppError` becomes an `anyhow::Error` that
//! keeps its cause, so an operator reads the whole chain.

use async_graphql::ErrorExtensions;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::geometry::GeometryError;

/// Deliberately not `Display`: async-graphql converts anything `Display` into an error
/// without a code, so this type converts only through the `From` impl below.
#[derive(Debug)]
pub enum AppError {
    /// The request was well-formed GraphQL but a value breaks a documented rule.
    InvalidInput {
        message: String,
        /// The input field at fault, as the client named it (`radiusMeters`, `first` ...).
        field: Option<&'static str>,
    },
    InvalidGeometry(GeometryError),
    NotFound(&'static str),
    /// What an input field names does not exist (an unknown postcode, say).
    NotFoundIn {
        message: String,
        field: &'static str,
    },
    /// Optimistic concurrency: the caller's `expectedVersion` is not the stored one.
    Conflict {
        message: String,
        current_version: Option<i32>,
    },
    /// No credentials, or credentials that are not (or no longer) valid.
    Unauthenticated(String),
    /// Valid credentials that do not allow this.
    Forbidden(String),
    /// A sync cursor from before the change log's retention window: the client may
    /// have missed a deletion and must start again from a full export.
    CursorExpired(String),
    /// Too much at once: too many requests, subscriptions or connections, or a
    /// subscriber too slow to keep up.
    RateLimited(String),
    /// The response would carry more than the server builds for one request (its
    /// geometry, say): ask for less at once.
    TooLarge(String),
    Internal(anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
            field: Some(field),
        }
    }

    /// The message a client sees: never internal detail.
    pub fn message(&self) -> String {
        match self {
            Self::InvalidInput { message, .. }
            | Self::Conflict { message, .. }
            | Self::Unauthenticated(message)
            | Self::Forbidden(message)
            | Self::CursorExpired(message)
            | Self::RateLimited(message)
            | Self::TooLarge(message)
            | Self::NotFoundIn { message, .. } => message.clone(),
            Self::InvalidGeometry(g) => g.to_string(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// The HTTP status a surface other than GraphQL answers with (GraphQL answers field
    /// errors inside a 200).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidInput { .. } | Self::InvalidGeometry(_) | Self::TooLarge(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::NotFound(_) | Self::NotFoundIn { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::CursorExpired(_) => StatusCode::GONE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput { .. } => "INVALID_INPUT",
            Self::InvalidGeometry(_) => "INVALID_GEOMETRY",
            Self::NotFound(_) | Self::NotFoundIn { .. } => "NOT_FOUND",
            Self::Conflict { .. } => "CONFLICT",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::CursorExpired(_) => "CURSOR_EXPIRED",
            Self::RateLimited(_) => "RATE_LIMITED",
            Self::TooLarge(_) => "TOO_LARGE",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

impl From<GeometryError> for AppError {
    fn from(err: GeometryError) -> Self {
        Self::InvalidGeometry(err)
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(err.into())
    }
}

impl From<sea_orm::TransactionError<AppError>> for AppError {
    fn from(err: sea_orm::TransactionError<AppError>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(app) => app,
        }
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        match err {
            AppError::Internal(cause) => {
                let error_id = uuid::Uuid::now_v7();
                tracing::error!(error.id = %error_id, error.cause = ?cause, "internal error");
                async_graphql::Error::new("internal error").extend_with(|_, e| {
                    e.set("code", code);
                    e.set("errorId", error_id.to_string());
                })
            }
            AppError::InvalidGeometry(g) => {
                async_graphql::Error::new(g.to_string()).extend_with(|_, e| {
                    e.set("code", code);
                    e.set("reason", g.reason.as_str());
                    if let Some(path) = &g.path {
                        e.set("path", path.as_str());
                    }
                })
            }
            AppError::InvalidInput { message, field } => async_graphql::Error::new(message)
                .extend_with(|_, e| {
                    e.set("code", code);
                    if let Some(field) = field {
                        e.set("field", field);
                    }
                }),
            AppError::NotFoundIn { message, field } => async_graphql::Error::new(message)
                .extend_with(|_, e| {
                    e.set("code", code);
                    e.set("field", field);
                }),
            AppError::Conflict {
                message,
                current_version,
            } => async_graphql::Error::new(message).extend_with(|_, e| {
                e.set("code", code);
                if let Some(v) = current_version {
                    e.set("currentVersion", v);
                }
            }),
            AppError::NotFound(_)
            | AppError::Unauthenticated(_)
            | AppError::Forbidden(_)
            | AppError::CursorExpired(_)
            | AppError::RateLimited(_)
            | AppError::TooLarge(_) => {
                async_graphql::Error::new(err.message()).extend_with(|_, e| e.set("code", code))
            }
        }
    }
}

impl IntoResponse for AppError {
    /// `{"errors": [{"message", "extensions": {"code", ...}}]}`, the shape GraphQL errors
    /// have, with the status for the code; an internal cause is logged here, once.
    fn into_response(self) -> Response {
        let status = self.status();
        let unauthenticated = matches!(self, Self::Unauthenticated(_));
        let error = async_graphql::Error::from(self);
        let mut entry = serde_json::json!({"message": error.message});
        if let Some(extensions) = &error.extensions
            && let Ok(value) = serde_json::to_value(extensions)
        {
            entry["extensions"] = value;
        }
        let mut response =
            (status, axum::Json(serde_json::json!({"errors": [entry]}))).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if unauthenticated {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<AppError> for anyhow::Error {
    /// For the command line: an internal error keeps its cause (logged with its error
    /// id, which the message names); any other says its code and message.
    fn from(err: AppError) -> Self {
        match err {
            AppError::Internal(cause) => {
                let error_id = uuid::Uuid::now_v7();
                tracing::error!(error.id = %error_id, error.cause = ?cause, "internal error");
                cause.context(format!("internal error (error id {error_id})"))
            }
            other => anyhow::anyhow!(other.message()),
        }
    }
}

/// An application result towards the command line: the error with what was being done.
pub trait During<T> {
    fn during(self, doing: &'static str) -> anyhow::Result<T>;
}

impl<T> During<T> for AppResult<T> {
    fn during(self, doing: &'static str) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::Error::from(e).context(doing))
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::AppError;

    async fn answer(err: AppError) -> (u16, serde_json::Value) {
        let response = err.into_response();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("a body");
        (status, serde_json::from_slice(&bytes).expect("JSON"))
    }

    #[tokio::test]
    async fn every_error_answers_with_its_status_and_the_one_body() {
        let cases = [
            (
                AppError::invalid("radiusMeters", "too far"),
                400,
                "INVALID_INPUT",
            ),
            (AppError::NotFound("service"), 404, "NOT_FOUND"),
            (AppError::forbidden("not yours"), 403, "FORBIDDEN"),
            (
                AppError::Unauthenticated("no token".into()),
                401,
                "UNAUTHENTICATED",
            ),
            (
                AppError::RateLimited("slow down".into()),
                429,
                "RATE_LIMITED",
            ),
            (
                AppError::CursorExpired("too old".into()),
                410,
                "CURSOR_EXPIRED",
            ),
            (
                AppError::Conflict {
                    message: "moved on".into(),
                    current_version: Some(3),
                },
                409,
                "CONFLICT",
            ),
            (
                AppError::Internal(anyhow::anyhow!("disk I/O error at /srv/assetmap.db")),
                500,
                "INTERNAL",
            ),
        ];
        for (err, status, code) in cases {
            let (got, body) = answer(err).await;
            assert_eq!(got, status, "{body:#}");
            assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body:#}");
            assert!(body["errors"][0]["message"].is_string(), "{body:#}");
        }
        let (_, body) = answer(AppError::invalid("radiusMeters", "too far")).await;
        assert_eq!(body["errors"][0]["extensions"]["field"], "radiusMeters");
        let (_, body) = answer(AppError::Internal(anyhow::anyhow!("/srv/assetmap.db"))).await;
        let text = body.to_string();
        assert!(!text.contains("/srv"), "{text}");
        assert!(
            body["errors"][0]["extensions"]["errorId"].is_string(),
            "{text}"
        );
    }

    #[test]
    fn towards_the_command_line_the_cause_is_kept() {
        let cause = anyhow::anyhow!("No space left on device (os error 28)");
        let err = anyhow::Error::from(AppError::Internal(cause));
        let chain = format!("{err:#}");
        assert!(chain.contains("No space left on device"), "{chain}");
        assert!(chain.contains("error id"), "{chain}");
        let err = anyhow::Error::from(AppError::invalid("file", "not GeoJSON"));
        assert_eq!(err.to_string(), "not GeoJSON");
    }
}
