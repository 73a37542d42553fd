//! Websites must be http or https addresses (listings are shown to the public; a
//! `javascript:` link must never reach a page). Rows written before the rule may hold
//! anything: this asks the server to check them once at start-up
//! (`asset_version::check_websites`), where each fix goes through the write path and
//! is recorded as a revision, which plain SQL here could not do.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261130_000014_check_websites"
    }
}

#[derive(Iden)]
enum AppMeta {
    Table,
    Key,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let insert = Query::insert()
            .into_table(AppMeta::Table)
            .columns([AppMeta::Key, AppMeta::Value])
            .values_panic(["websites".into(), "check".into()])
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let delete = Query::delete()
            .from_table(AppMeta::Table)
            .and_where(Expr::col(AppMeta::Key).eq("websites"))
            .to_owned();
        manager.exec_stmt(delete).await
    }
}
