//! Certificate persistence: issued certificates, their status history, the
//! per-type serial counters, and the transactions that issue and change
//! them together with their outbox events.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, Set,
    Statement,
};
use sea_orm_migration::prelude::*;
use yizhan_events::contracts::{
    CertificateIssued, CertificateItem, CertificateStatus, CertificateStatusChanged,
    StatusTransitionError,
};

use super::SOURCE;

/// The `certificates` table.
pub mod certificate {
    use sea_orm::entity::prelude::*;

    /// One issued certificate.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificates")]
    pub struct Model {
        /// 电子证照标识.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The request it answers; unique, which is what makes issuing idempotent.
        #[sea_orm(unique)]
        pub request_id: String,
        /// Type API name.
        pub certificate_type: String,
        /// 证照类型代码.
        pub type_code: String,
        /// 证照名称.
        pub type_name: String,
        /// Per-type serial.
        pub serial: i64,
        /// Holder USCC.
        pub holder_uscc: String,
        /// Holder name.
        pub holder_name: String,
        /// Scope text.
        #[sea_orm(column_type = "Text")]
        pub scope: String,
        /// Items, JSON array of `CertificateItem`.
        #[sea_orm(column_type = "Text")]
        pub items: String,
        /// First valid day.
        pub valid_from: Date,
        /// Last valid day.
        pub valid_until: Option<Date>,
        /// Issuer USCC.
        pub issuer_uscc: String,
        /// Issuer name.
        pub issuer_name: String,
        /// Signing time.
        pub issued_at: DateTimeUtc,
        /// Current status code (the signed one is in the JWS and stays `01`).
        pub status: String,
        /// Why the status last changed.
        #[sea_orm(column_type = "Text", nullable)]
        pub status_reason: Option<String>,
        /// When it last changed.
        pub status_changed_at: Option<DateTimeUtc>,
        /// Signing key id.
        pub key_id: String,
        /// The signed compact JWS.
        #[sea_orm(column_type = "Text")]
        pub jws: String,
        /// Requesting service.
        pub requested_by_service: String,
        /// The event that caused it (`source id`).
        pub cause: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `certificate_status_changes` table: every change, once per request.
pub mod status_change {
    use sea_orm::entity::prelude::*;

    /// One applied status change.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificate_status_changes")]
    pub struct Model {
        /// Row id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The certificate.
        pub certificate_id: String,
        /// The change request; unique, so a request applies once.
        #[sea_orm(unique)]
        pub request_id: String,
        /// Status before.
        pub old_status: String,
        /// Status after.
        pub new_status: String,
        /// Why.
        #[sea_orm(column_type = "Text")]
        pub reason: String,
        /// Requesting service.
        pub requested_by_service: String,
        /// When.
        pub changed_at: DateTimeUtc,
        /// The event that caused it.
        pub cause: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

impl certificate::Model {
    /// The current status.
    pub fn current_status(&self) -> CertificateStatus {
        // Only codes from `CertificateStatus::code` are ever written.
        CertificateStatus::from_code(&self.status).unwrap_or(CertificateStatus::Valid)
    }

    /// The items as recorded.
    pub fn item_list(&self) -> Vec<CertificateItem> {
        serde_json::from_str(&self.items).unwrap_or_default()
    }
}

/// The certificate answering `request_id`, if one was issued.
pub async fn find_by_request(
    db: &impl ConnectionTrait,
    request_id: &str,
) -> Result<Option<certificate::Model>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::RequestId.eq(request_id))
        .one(db)
        .await
}

/// One certificate.
pub async fn find(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<certificate::Model>, DbErr> {
    certificate::Entity::find_by_id(id.to_owned()).one(db).await
}

/// A holder's certificates, newest first.
pub async fn of_holder(
    db: &impl ConnectionTrait,
    uscc: &str,
) -> Result<Vec<certificate::Model>, DbErr> {
    certificate::Entity::find()
        .filter(certificate::Column::HolderUscc.eq(uscc))
        .order_by_desc(certificate::Column::IssuedAt)
        .order_by_desc(certificate::Column::Id)
        .all(db)
        .await
}

/// Takes the next serial of a type inside the caller's transaction. The
/// upsert locks the counter row until commit, so concurrent issuers of one
/// type queue there instead of colliding; a rolled-back issue leaves no gap.
pub async fn next_serial(db: &impl ConnectionTrait, type_code: &str) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "INSERT INTO certificate_serials (type_code, last_serial) VALUES ($1, 1) \
             ON CONFLICT (type_code) DO UPDATE SET last_serial = certificate_serials.last_serial + 1 \
             RETURNING last_serial"
        }
        _ => {
            "INSERT INTO certificate_serials (type_code, last_serial) VALUES (?, 1) \
             ON CONFLICT (type_code) DO UPDATE SET last_serial = certificate_serials.last_serial + 1 \
             RETURNING last_serial"
        }
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [type_code.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("serial upsert returned no row".into()))?;
    row.try_get::<i64>("", "last_serial")
}

/// A certificate ready to record.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    /// The row.
    pub row: certificate::Model,
    /// Public verification URL (for the event).
    pub verify_url: String,
}

/// Records a signed certificate and its `CertificateIssued` event in the
/// caller's transaction.
pub async fn insert(db: &impl ConnectionTrait, new: NewCertificate) -> Result<(), DbErr> {
    let r = new.row;
    let event = CertificateIssued {
        certificate_id: r.id.clone(),
        request_id: r.request_id.clone(),
        certificate_type: r.certificate_type.clone(),
        holder_uscc: r.holder_uscc.clone(),
        holder_name: r.holder_name.clone(),
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        requested_by_service: r.requested_by_service.clone(),
        verify_url: new.verify_url,
        issued_at: r.issued_at,
    };
    certificate::Entity::insert(certificate::ActiveModel {
        id: Set(r.id),
        request_id: Set(r.request_id),
        certificate_type: Set(r.certificate_type),
        type_code: Set(r.type_code),
        type_name: Set(r.type_name),
        serial: Set(r.serial),
        holder_uscc: Set(r.holder_uscc),
        holder_name: Set(r.holder_name),
        scope: Set(r.scope),
        items: Set(r.items),
        valid_from: Set(r.valid_from),
        valid_until: Set(r.valid_until),
        issuer_uscc: Set(r.issuer_uscc),
        issuer_name: Set(r.issuer_name),
        issued_at: Set(r.issued_at),
        status: Set(r.status),
        status_reason: Set(r.status_reason),
        status_changed_at: Set(r.status_changed_at),
        key_id: Set(r.key_id),
        jws: Set(r.jws),
        requested_by_service: Set(r.requested_by_service),
        cause: Set(r.cause),
    })
    .exec(db)
    .await?;
    yizhan_events::outbox::enqueue(db, SOURCE, &event).await?;
    Ok(())
}

/// A status change to apply.
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// The certificate.
    pub certificate_id: String,
    /// Target status.
    pub new_status: CertificateStatus,
    /// Why.
    pub reason: String,
    /// Idempotency key.
    pub request_id: String,
    /// Requesting service.
    pub requested_by_service: String,
    /// Causing event.
    pub cause: String,
}

/// What applying a status change came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusChangeOutcome {
    /// Applied now.
    Applied {
        /// Before.
        from: CertificateStatus,
        /// After.
        to: CertificateStatus,
    },
    /// This request was applied before.
    AlreadyApplied,
}

/// Why a status change was not applied.
#[derive(Debug, thiserror::Error)]
pub enum StatusChangeError {
    /// No such certificate.
    #[error("电子证照 {0} 不存在")]
    NotFound(String),
    /// The rules forbid it.
    #[error(transparent)]
    Transition(#[from] StatusTransitionError),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Applies a status change, its history row and its `CertificateStatusChanged`
/// event in the caller's transaction; a request id seen before is a no-op.
pub async fn change_status(
    db: &impl ConnectionTrait,
    change: StatusChange,
    now: DateTime<Utc>,
) -> Result<StatusChangeOutcome, StatusChangeError> {
    let seen = status_change::Entity::find()
        .filter(status_change::Column::RequestId.eq(&change.request_id))
        .one(db)
        .await?;
    if seen.is_some() {
        return Ok(StatusChangeOutcome::AlreadyApplied);
    }
    let cert = find(db, &change.certificate_id)
        .await?
        .ok_or_else(|| StatusChangeError::NotFound(change.certificate_id.clone()))?;
    let from = cert.current_status();
    from.transition_to(change.new_status)?;
    // Compare-and-set on the old status: a concurrent change makes this
    // update touch no row, and the caller retries against the new status.
    let updated = certificate::Entity::update_many()
        .col_expr(
            certificate::Column::Status,
            Expr::value(change.new_status.code()),
        )
        .col_expr(
            certificate::Column::StatusReason,
            Expr::value(change.reason.clone()),
        )
        .col_expr(certificate::Column::StatusChangedAt, Expr::value(now))
        .filter(certificate::Column::Id.eq(&cert.id))
        .filter(certificate::Column::Status.eq(from.code()))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(DbErr::Custom(format!(
            "certificate {} changed status concurrently; retry",
            cert.id
        ))
        .into());
    }
    status_change::Entity::insert(status_change::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        certificate_id: Set(cert.id.clone()),
        request_id: Set(change.request_id.clone()),
        old_status: Set(from.code().to_owned()),
        new_status: Set(change.new_status.code().to_owned()),
        reason: Set(change.reason.clone()),
        requested_by_service: Set(change.requested_by_service.clone()),
        changed_at: Set(now),
        cause: Set(change.cause.clone()),
    })
    .exec(db)
    .await?;
    yizhan_events::outbox::enqueue(
        db,
        SOURCE,
        &CertificateStatusChanged {
            certificate_id: cert.id.clone(),
            holder_uscc: cert.holder_uscc.clone(),
            old_status: from,
            new_status: change.new_status,
            reason: change.reason,
            request_id: change.request_id,
            changed_at: now,
        },
    )
    .await?;
    Ok(StatusChangeOutcome::Applied {
        from,
        to: change.new_status,
    })
}

/// Status history of a certificate, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    certificate_id: &str,
) -> Result<Vec<status_change::Model>, DbErr> {
    status_change::Entity::find()
        .filter(status_change::Column::CertificateId.eq(certificate_id))
        .order_by_asc(status_change::Column::ChangedAt)
        .order_by_asc(status_change::Column::Id)
        .all(db)
        .await
}

/// Creates the certificate tables.
pub struct CreateCertificates;

impl MigrationName for CreateCertificates {
    fn name(&self) -> &str {
        "m0200_create_certificates"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateCertificates {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .create_table(
                Table::create()
                    .table("certificates")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("request_id"))
                    .col(string("certificate_type"))
                    .col(string("type_code"))
                    .col(string("type_name"))
                    .col(big_integer("serial"))
                    .col(string("holder_uscc"))
                    .col(string("holder_name"))
                    .col(text("scope"))
                    .col(text("items"))
                    .col(date("valid_from"))
                    .col(date_null("valid_until"))
                    .col(string("issuer_uscc"))
                    .col(string("issuer_name"))
                    .col(timestamp_with_time_zone("issued_at"))
                    .col(string("status"))
                    .col(text_null("status_reason"))
                    .col(timestamp_with_time_zone_null("status_changed_at"))
                    .col(string("key_id"))
                    .col(text("jws"))
                    .col(string("requested_by_service"))
                    .col(string("cause"))
                    .to_owned(),
            )
            .await?;
        // The idempotency guarantee: one certificate per request, even when
        // two different events carry the same request.
        manager
            .create_index(
                Index::create()
                    .name("certificates_request_id")
                    .table("certificates")
                    .col("request_id")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("certificates_type_serial")
                    .table("certificates")
                    .col("type_code")
                    .col("serial")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("certificates_holder")
                    .table("certificates")
                    .col("holder_uscc")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("certificate_serials")
                    .if_not_exists()
                    .col(string("type_code").primary_key())
                    .col(big_integer("last_serial"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("certificate_status_changes")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("certificate_id"))
                    .col(string("request_id"))
                    .col(string("old_status"))
                    .col(string("new_status"))
                    .col(text("reason"))
                    .col(string("requested_by_service"))
                    .col(timestamp_with_time_zone("changed_at"))
                    .col(string("cause"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("certificate_status_changes_request_id")
                    .table("certificate_status_changes")
                    .col("request_id")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("certificate_status_changes_certificate")
                    .table("certificate_status_changes")
                    .col("certificate_id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
