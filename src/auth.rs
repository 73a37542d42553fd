//! Who is asking. A request without credentials is anonymous and reads published assets
//! only; a request with `Authorization: Bearer <token>` acts as the token's holder, with
//! the token's role:
//!
//! - **link worker**: makes shortlists for residents (and reads, like anyone);
//! - **editor**: creates and changes assets of the organizations the token names;
//! - **moderator**: changes any asset, approves or rejects pending changes, restores
//!   revisions, manages organizations;
//! - **admin**: everything a moderator may (tokens themselves are issued and revoked
//!   from the CLI, by whoever runs the server).
//!
//! These are the rules the services apply; the writes themselves also carry them in
//! their `WHERE` clauses (see `service::assets`).

use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// What a caller may do (stored with each API token; named in a JWT's `role` claim).
pub use entity::api_token::Role;

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Actor {
    /// Stable id recorded in history: `token:<uuid>`, or `jwt:<issuer>:<subject>`.
    pub id: String,
    /// The holder's name as history shows it.
    pub name: String,
    pub role: Role,
    /// The organizations an editor acts for (empty for moderators and admins, who act
    /// for all).
    pub organizations: Vec<Uuid>,
}

impl Actor {
    pub fn is_moderator(&self) -> bool {
        matches!(self.role, Role::Moderator | Role::Admin)
    }

    pub fn is_member_of(&self, organization: Option<Uuid>) -> bool {
        organization.is_some_and(|o| self.organizations.contains(&o))
    }

    /// May change assets of this organization (`None`: assets no organization runs).
    pub fn may_edit(&self, organization: Option<Uuid>) -> bool {
        self.is_moderator() || self.is_member_of(organization)
    }

    pub fn require_moderator(&self) -> AppResult<&Self> {
        if self.is_moderator() {
            Ok(self)
        } else {
            Err(AppError::forbidden(
                "only a moderator or an admin may do this",
            ))
        }
    }
}

/// The caller of one request.
#[derive(Clone, Debug, Default)]
pub struct Principal(Option<Actor>);

impl Principal {
    pub fn anonymous() -> Self {
        Self(None)
    }

    pub fn actor(actor: Actor) -> Self {
        Self(Some(actor))
    }

    pub fn get(&self) -> Option<&Actor> {
        self.0.as_ref()
    }

    /// The actor, or `UNAUTHENTICATED`.
    pub fn require(&self) -> AppResult<&Actor> {
        self.0.as_ref().ok_or_else(|| {
            AppError::Unauthenticated(
                "sign in: send an API token as `Authorization: Bearer <token>`".to_owned(),
            )
        })
    }

    pub fn require_moderator(&self) -> AppResult<&Actor> {
        self.require()?.require_moderator()
    }

    /// May see unpublished assets, history and pending changes of this organization.
    pub fn sees(&self, organization: Option<Uuid>) -> bool {
        self.0.as_ref().is_some_and(|a| a.may_edit(organization))
    }
}
