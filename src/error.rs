//! The one application error type and its stable GraphQL error codes.
//!
//! Every error that reaches a client carries `extensions.code`. Internal causes (database
//! errors, I/O) are logged with a fresh error id and answered as `INTERNAL` with that id
//! only: no SQL, paths or hostnames ever reach a response.

use async_graphql::ErrorExtensions;

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
