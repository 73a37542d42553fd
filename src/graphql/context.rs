//! What a resolver knows of its request: who is asking (the caller's `Principal`, put in
//! by the HTTP layer), and the store.

use async_graphql::Context;

use crate::auth::{Actor, Principal};
use crate::db::Db;
use crate::error::AppResult;

/// Who is asking: anonymous unless the request carried a valid token.
pub fn principal<'a>(ctx: &'a Context<'_>) -> &'a Principal {
    static ANONYMOUS: std::sync::LazyLock<Principal> =
        std::sync::LazyLock::new(Principal::anonymous);
    ctx.data_opt::<Principal>().unwrap_or(&ANONYMOUS)
}

/// The caller, or `UNAUTHENTICATED`.
pub fn actor<'a>(ctx: &'a Context<'_>) -> AppResult<&'a Actor> {
    principal(ctx).require()
}

/// The caller (or `UNAUTHENTICATED`) and the store.
pub fn caller<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<(&'a Actor, &'a Db)> {
    Ok((actor(ctx)?, ctx.data::<Db>()?))
}

/// The caller if a moderator (or `UNAUTHENTICATED`, `FORBIDDEN`), and the store.
pub fn moderator<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<(&'a Actor, &'a Db)> {
    Ok((principal(ctx).require_moderator()?, ctx.data::<Db>()?))
}
