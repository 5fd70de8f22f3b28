//! Versioned catalogs (事项目录): each version stored whole as JSON and
//! never changed, so a case naming a version always sees the catalog it
//! was made on. The services own their catalog types and rules; this is
//! only the storage both use (table `catalog_versions`, created by each
//! service's first migration).

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryOrder, QuerySelect,
    Set,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `catalog_versions`: every published catalog, whole, as JSON.
pub mod catalog_version {
    use sea_orm::entity::prelude::*;

    /// One catalog version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_versions")]
    pub struct Model {
        /// Version, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// The catalog as JSON.
        #[sea_orm(column_type = "Text")]
        pub content: String,
        /// When it was published.
        pub created_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn decode<T: DeserializeOwned>(row: &catalog_version::Model) -> Result<T, DbErr> {
    serde_json::from_str(&row.content)
        .map_err(|e| DbErr::Custom(format!("catalog version {} unreadable: {e}", row.version)))
}

/// Writes `catalog` as `version` in the caller's transaction (a version
/// already stored is a unique violation).
pub async fn insert<T: Serialize>(
    db: &impl ConnectionTrait,
    version: i32,
    catalog: &T,
) -> Result<(), DbErr> {
    let content =
        serde_json::to_string(catalog).map_err(|e| DbErr::Custom(format!("catalog JSON: {e}")))?;
    catalog_version::Entity::insert(catalog_version::ActiveModel {
        version: Set(version),
        content: Set(content),
        created_at: Set(Utc::now()),
    })
    .exec(db)
    .await
    .map(|_| ())
}

/// Stores `seed` as the first version unless a version exists. Safe at
/// every start and from several replicas at once: a replica that loses the
/// insert race sees the winner's row.
pub async fn seed<T: Serialize>(
    db: &DatabaseConnection,
    version: i32,
    seed: &T,
) -> Result<(), DbErr> {
    if catalog_version::Entity::find().one(db).await?.is_some() {
        return Ok(());
    }
    match insert(db, version, seed).await {
        Err(e) if yizhan_kit::db::is_unique_violation(&e) => Ok(()),
        other => other,
    }
}

/// The newest stored version, if any.
pub async fn newest<T: DeserializeOwned>(db: &impl ConnectionTrait) -> Result<Option<T>, DbErr> {
    catalog_version::Entity::find()
        .order_by_desc(catalog_version::Column::Version)
        .one(db)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// One stored version, if any.
pub async fn version<T: DeserializeOwned>(
    db: &impl ConnectionTrait,
    version: i32,
) -> Result<Option<T>, DbErr> {
    catalog_version::Entity::find_by_id(version)
        .one(db)
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// The newest version number (cheap: replicas poll it to pick up catalogs
/// another replica published).
pub async fn latest_version(db: &impl ConnectionTrait) -> Result<Option<i32>, DbErr> {
    catalog_version::Entity::find()
        .select_only()
        .column_as(catalog_version::Column::Version.max(), "v")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await
        .map(Option::flatten)
}
