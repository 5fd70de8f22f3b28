//! Document persistence: material records and their migrations. Queries and
//! transactions live here; handlers never build queries.

pub mod certificates;
pub mod grants;
pub mod keys;
pub mod storage;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sea_orm_migration::prelude::*;
use yizhan_events::contracts::MaterialUploaded;
use yizhan_kit::idempotency;

/// `ce_source` of document events.
pub const SOURCE: &str = "/yizhan/document";

/// The `materials` table.
pub mod material {
    use sea_orm::entity::prelude::*;

    /// One uploaded version of one material of one enterprise.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "materials")]
    pub struct Model {
        /// Material id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Owner enterprise USCC.
        pub enterprise_uscc: String,
        /// Material type code.
        pub material_type: String,
        /// Version within (enterprise, type), from 1.
        pub version: i32,
        /// Sanitised file name.
        pub filename: String,
        /// Sniffed content type.
        pub content_type: String,
        /// Size in bytes.
        pub size_bytes: i64,
        /// SHA-256 hex; the blob key.
        pub sha256: String,
        /// Last day the material is valid, if it expires.
        pub valid_until: Option<Date>,
        /// Uploader `sub`.
        pub uploaded_by: String,
        /// Uploader display name.
        pub uploaded_by_name: Option<String>,
        /// Upload time.
        pub uploaded_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A new material ready to record.
#[derive(Debug, Clone)]
pub struct NewMaterial {
    /// Owner enterprise.
    pub enterprise_uscc: String,
    /// Type code.
    pub material_type: String,
    /// Safe file name.
    pub filename: String,
    /// Sniffed content type.
    pub content_type: String,
    /// Size.
    pub size_bytes: i64,
    /// Content hash.
    pub sha256: String,
    /// Expiry.
    pub valid_until: Option<NaiveDate>,
    /// Uploader.
    pub uploaded_by: String,
    /// Uploader name.
    pub uploaded_by_name: Option<String>,
}

/// Idempotency parameters of a creating request.
pub struct Idempotent<'a> {
    /// Caller + route.
    pub scope: &'a str,
    /// Client key.
    pub key: &'a str,
    /// Request fingerprint.
    pub fingerprint: &'a str,
}

/// Result of recording.
pub enum Recorded {
    /// A new material.
    Created(material::Model),
    /// The same request was seen before; here is its answer.
    Replayed(idempotency::StoredResponse),
}

/// Records the material, its `MaterialUploaded` event and (if keyed) the
/// idempotent response, in one transaction. `respond` renders the response
/// body stored for replays.
///
/// Concurrent uploads of one type for one enterprise take their versions
/// one after another (a per-key lock). A unique violation can still come
/// from two concurrent requests with the same idempotency key; the
/// transaction is then retried and finds the winner's stored response.
pub async fn record_material<R: serde::Serialize>(
    db: &DatabaseConnection,
    new: NewMaterial,
    idempotent: Option<Idempotent<'_>>,
    respond: impl Fn(&material::Model) -> R,
) -> Result<Recorded, RecordError> {
    const ATTEMPTS: usize = 3;
    let mut attempt = 1;
    loop {
        match record_once(db, new.clone(), idempotent.as_ref(), &respond).await {
            Err(RecordError::Db(e))
                if attempt < ATTEMPTS && yizhan_kit::db::is_unique_violation(&e) =>
            {
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn record_once<R: serde::Serialize>(
    db: &DatabaseConnection,
    new: NewMaterial,
    idempotent: Option<&Idempotent<'_>>,
    respond: &impl Fn(&material::Model) -> R,
) -> Result<Recorded, RecordError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    // One upload at a time per (enterprise, type) picks the next version.
    let version_key = format!(
        "material-version:{}:{}",
        new.enterprise_uscc, new.material_type
    );
    yizhan_kit::db::lock_key(&txn, &version_key).await?;
    if let Some(i) = idempotent
        && let Some(stored) = idempotency::lookup(&txn, i.scope, i.key, i.fingerprint).await?
    {
        return Ok(Recorded::Replayed(stored));
    }
    let latest: Option<i32> = material::Entity::find()
        .select_only()
        .column_as(material::Column::Version.max(), "v")
        .filter(material::Column::EnterpriseUscc.eq(&new.enterprise_uscc))
        .filter(material::Column::MaterialType.eq(&new.material_type))
        .into_tuple::<Option<i32>>()
        .one(&txn)
        .await?
        .flatten();
    let now = Utc::now();
    let row = material::Model {
        id: uuid::Uuid::now_v7().to_string(),
        enterprise_uscc: new.enterprise_uscc,
        material_type: new.material_type,
        version: latest.unwrap_or(0) + 1,
        filename: new.filename,
        content_type: new.content_type,
        size_bytes: new.size_bytes,
        sha256: new.sha256,
        valid_until: new.valid_until,
        uploaded_by: new.uploaded_by,
        uploaded_by_name: new.uploaded_by_name,
        uploaded_at: now,
    };
    material::Entity::insert(to_active(&row)).exec(&txn).await?;
    yizhan_events::outbox::enqueue(&txn, SOURCE, &uploaded_event(&row, now)).await?;
    if let Some(i) = idempotent {
        idempotency::record(
            &txn,
            i.scope,
            i.key,
            i.fingerprint,
            actix_web::http::StatusCode::CREATED,
            &respond(&row),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(Recorded::Created(row))
}

fn to_active(row: &material::Model) -> material::ActiveModel {
    material::ActiveModel {
        id: Set(row.id.clone()),
        enterprise_uscc: Set(row.enterprise_uscc.clone()),
        material_type: Set(row.material_type.clone()),
        version: Set(row.version),
        filename: Set(row.filename.clone()),
        content_type: Set(row.content_type.clone()),
        size_bytes: Set(row.size_bytes),
        sha256: Set(row.sha256.clone()),
        valid_until: Set(row.valid_until),
        uploaded_by: Set(row.uploaded_by.clone()),
        uploaded_by_name: Set(row.uploaded_by_name.clone()),
        uploaded_at: Set(row.uploaded_at),
    }
}

fn uploaded_event(row: &material::Model, at: DateTime<Utc>) -> MaterialUploaded {
    MaterialUploaded {
        material_id: row.id.clone(),
        enterprise_uscc: row.enterprise_uscc.clone(),
        material_type: row.material_type.clone(),
        version: row.version,
        filename: row.filename.clone(),
        content_type: row.content_type.clone(),
        size_bytes: row.size_bytes,
        sha256: row.sha256.clone(),
        uploaded_by: row.uploaded_by.clone(),
        uploaded_by_name: row.uploaded_by_name.clone(),
        uploaded_at: at,
    }
}

/// Why recording failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Idempotency key reused with another body.
    #[error(transparent)]
    Idempotency(#[from] idempotency::LookupError),
    /// Database failure (a unique violation means a concurrent upload won the version).
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Records a materials check's `MaterialsChecked` event through the outbox,
/// in its own write transaction (the caller wakes the relay).
pub async fn record_check(
    db: &DatabaseConnection,
    event: &yizhan_events::contracts::MaterialsChecked,
) -> Result<(), DbErr> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    yizhan_events::outbox::enqueue(&txn, SOURCE, event).await?;
    txn.commit().await
}

/// One material by id.
pub async fn find_material(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<material::Model>, DbErr> {
    material::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Materials by id (any enterprise; the caller filters).
pub async fn find_materials(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> Result<Vec<material::Model>, DbErr> {
    material::Entity::find()
        .filter(material::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await
}

/// Materials of an enterprise, newest first.
pub async fn enterprise_materials(
    db: &impl ConnectionTrait,
    uscc: &str,
) -> Result<Vec<material::Model>, DbErr> {
    material::Entity::find()
        .filter(material::Column::EnterpriseUscc.eq(uscc))
        .order_by_asc(material::Column::MaterialType)
        .order_by_desc(material::Column::Version)
        .all(db)
        .await
}

/// How many materials point at a blob (tests check deduplication with it).
pub async fn count_by_sha(db: &impl ConnectionTrait, sha256: &str) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    material::Entity::find()
        .filter(material::Column::Sha256.eq(sha256))
        .count(db)
        .await
}

/// The document service's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = yizhan_events::migration::backbone_migrations();
        all.push(Box::new(CreateMaterials));
        all.push(Box::new(certificates::CreateCertificates));
        all.push(Box::new(grants::CreateGrants));
        all
    }
}

struct CreateMaterials;

impl MigrationName for CreateMaterials {
    fn name(&self) -> &str {
        "m0100_create_materials"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateMaterials {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .create_table(
                Table::create()
                    .table("materials")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("enterprise_uscc"))
                    .col(string("material_type"))
                    .col(integer("version"))
                    .col(string("filename"))
                    .col(string("content_type"))
                    .col(big_integer("size_bytes"))
                    .col(string("sha256"))
                    .col(date_null("valid_until"))
                    .col(string("uploaded_by"))
                    .col(string_null("uploaded_by_name"))
                    .col(timestamp_with_time_zone("uploaded_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("materials_enterprise_type_version")
                    .table("materials")
                    .col("enterprise_uscc")
                    .col("material_type")
                    .col("version")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("materials_sha256")
                    .table("materials")
                    .col("sha256")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
