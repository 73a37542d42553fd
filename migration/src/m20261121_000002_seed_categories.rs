//! The starter needs-and-interests taxonomy, with stable slugs.
use sea_orm_migration::prelude::*;
use uuid::Uuid;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261121_000002_seed_categories"
    }
}

/// (slug, name, parent slug). Parents come before their children.
const TAXONOMY: &[(&str, &str, Option<&str>)] = &[
    ("physical-activity", "Physical activity", None),
    ("walking", "Walking", Some("physical-activity")),
    ("cycling", "Cycling", Some("physical-activity")),
    ("swimming", "Swimming", Some("physical-activity")),
    ("sport", "Sport", Some("physical-activity")),
    ("social-connection", "Social connection", None),
    ("lunch-clubs", "Lunch clubs", Some("social-connection")),
    ("befriending", "Befriending", Some("social-connection")),
    ("mental-wellbeing", "Mental wellbeing", None),
    ("money-and-debt-advice", "Money and debt advice", None),
    ("food", "Food", None),
    ("food-banks", "Food banks", Some("food")),
    ("carers", "Carers", None),
    ("learning", "Learning", None),
    ("libraries", "Libraries", Some("learning")),
    ("volunteering", "Volunteering", None),
    ("nature-and-green-space", "Nature and green space", None),
    ("parks", "Parks and gardens", Some("nature-and-green-space")),
    (
        "growing",
        "Allotments and community growing",
        Some("nature-and-green-space"),
    ),
    ("play", "Play spaces", Some("nature-and-green-space")),
    ("arts-and-creativity", "Arts and creativity", None),
];

#[derive(Iden)]
enum Categories {
    Table,
    Id,
    Slug,
    Name,
    ParentId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut ids: Vec<(&str, Uuid)> = Vec::new();
        let mut insert = Query::insert();
        insert.into_table(Categories::Table).columns([
            Categories::Id,
            Categories::Slug,
            Categories::Name,
            Categories::ParentId,
        ]);
        for (slug, name, parent) in TAXONOMY {
            let id = Uuid::now_v7();
            let parent_id = match parent {
                Some(p) => Some(
                    ids.iter()
                        .find(|(s, _)| s == p)
                        .map(|(_, id)| *id)
                        .ok_or_else(|| DbErr::Migration(format!("parent {p} not seeded")))?,
                ),
                None => None,
            };
            insert.values_panic([id.into(), (*slug).into(), (*name).into(), parent_id.into()]);
            ids.push((slug, id));
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let slugs: Vec<&str> = TAXONOMY.iter().rev().map(|(s, _, _)| *s).collect();
        // children first, so the parent references never dangle
        for slug in slugs {
            let delete = Query::delete()
                .from_table(Categories::Table)
                .and_where(Expr::col(Categories::Slug).eq(slug))
                .to_owned();
            manager.exec_stmt(delete).await?;
        }
        Ok(())
    }
}
