//! Health and care in the taxonomy, with pharmacies under it: NHS pharmacies are in the
//! demo map, and link workers send residents to them for advice and minor ailments. A
//! term an administrator already made with the same slug is left as it is.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261130_000013_health_categories"
    }
}

#[derive(Iden)]
enum Categories {
    Table,
    Id,
    Slug,
    Name,
    ParentId,
}

/// (slug, name, parent slug).
const TERMS: &[(&str, &str, Option<&str>)] = &[
    ("health-and-care", "Health and care", None),
    ("pharmacies", "Pharmacies", Some("health-and-care")),
];

async fn id_of(manager: &SchemaManager<'_>, slug: &str) -> Result<Option<Uuid>, DbErr> {
    let conn = manager.get_connection();
    let select = Query::select()
        .column(Categories::Id)
        .from(Categories::Table)
        .and_where(Expr::col(Categories::Slug).eq(slug))
        .to_owned();
    let builder = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(
            builder,
            builder.build(&select).to_string(),
        ))
        .await?;
    match row {
        Some(row) => Ok(Some(row.try_get::<Uuid>("", "id")?)),
        None => Ok(None),
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (slug, name, parent) in TERMS {
            if id_of(manager, slug).await?.is_some() {
                continue;
            }
            let parent_id = match parent {
                Some(p) => id_of(manager, p).await?,
                None => None,
            };
            let insert = Query::insert()
                .into_table(Categories::Table)
                .columns([
                    Categories::Id,
                    Categories::Slug,
                    Categories::Name,
                    Categories::ParentId,
                ])
                .values_panic([
                    Uuid::now_v7().into(),
                    (*slug).into(),
                    (*name).into(),
                    parent_id.into(),
                ])
                .to_owned();
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // assets may carry the terms by now; they stay
        Ok(())
    }
}
