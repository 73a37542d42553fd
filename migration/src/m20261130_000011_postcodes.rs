//! Postcodes and where they are: the ONS Postcode Directory's live postcodes with their
//! centroids, so a link worker can search from a resident's postcode and a council's
//! CSV can place rows by their postcode column. Keyed by the postcode without spaces,
//! upper case (`WN11XX`); `display` keeps the directory's own form (`WN1 1XX`).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &'static str {
        "m20261130_000011_postcodes"
    }
}

#[derive(DeriveIden)]
enum Postcodes {
    Table,
    Postcode,
    Display,
    Lon,
    Lat,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Postcodes::Table)
                    .col(
                        ColumnDef::new(Postcodes::Postcode)
                            .text()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Postcodes::Display).text().not_null())
                    .col(ColumnDef::new(Postcodes::Lon).double().not_null())
                    .col(ColumnDef::new(Postcodes::Lat).double().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Postcodes::Table).to_owned())
            .await
    }
}
