//! Catalog versions: written whole, never changed, so a stage application
//! naming a version always sees the catalog it was made on.

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryOrder, Set};

use super::entities::catalog_version as row;
use crate::domain::catalog::Catalog;

fn decode(model: &row::Model) -> Result<Catalog, DbErr> {
    serde_json::from_str(&model.content).map_err(|e| {
        DbErr::Custom(format!(
            "construction catalog v{} is not readable: {e}",
            model.version
        ))
    })
}

/// Stores `seed` as the first version unless a version exists. Several
/// replicas may race at start: the loser's insert fails on the primary key
/// and it reads the winner's.
pub async fn publish_seed(db: &DatabaseConnection, seed: &Catalog) -> Result<Catalog, DbErr> {
    let problems = seed.problems();
    if !problems.is_empty() {
        return Err(DbErr::Custom(format!(
            "construction seed catalog: {}",
            problems.join("; ")
        )));
    }
    if let Some(found) = newest(db).await? {
        return Ok(found);
    }
    let inserted = row::Entity::insert(row::ActiveModel {
        version: Set(seed.version),
        content: Set(super::json(seed)),
        created_at: Set(Utc::now()),
    })
    .exec(db)
    .await;
    match inserted {
        Ok(_) => Ok(seed.clone()),
        Err(e) if yizhan_kit::db::is_unique_violation(&e) => newest(db)
            .await?
            .ok_or_else(|| DbErr::Custom("catalog vanished after a lost insert race".into())),
        Err(e) => Err(e),
    }
}

/// The newest stored version, if any.
pub async fn newest(db: &DatabaseConnection) -> Result<Option<Catalog>, DbErr> {
    row::Entity::find()
        .order_by_desc(row::Column::Version)
        .one(db)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// One stored version.
pub async fn version(db: &DatabaseConnection, version: i32) -> Result<Option<Catalog>, DbErr> {
    row::Entity::find_by_id(version)
        .one(db)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}
