//! An enterprise's licence entries, one row each (`enterprise_licences`).
//!
//! They used to live inside the enterprise's record JSON, so every event
//! about one licence read, parsed, rewrote and compared all of them: the
//! cost of a certificate grew with the number the enterprise held. Now an
//! event reads and writes the one entry it is about, and the record keeps
//! only the counts of what is held (`EnterpriseRecord::held`).

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::benefits_schema::record;
use crate::domain::profile::{CertificateState, LicenceEntry};

/// `enterprise_licences`.
pub mod entry {
    use sea_orm::entity::prelude::*;

    /// One licence or permit of one enterprise.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enterprise_licences")]
    pub struct Model {
        /// 统一社会信用代码 of the holder.
        #[sea_orm(primary_key, auto_increment = false)]
        pub uscc: String,
        /// The issue request's id (the application's id).
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        /// 电子证照标识, once issued.
        pub certificate_id: Option<String>,
        /// Certificate type code.
        pub certificate_type: String,
        /// Items it carries, JSON `[[code, name], …]`.
        #[sea_orm(column_type = "Text")]
        pub items: String,
        /// Day issued (China local).
        pub issued_on: Option<Date>,
        /// Last valid day; none for 长期有效.
        pub valid_until: Option<Date>,
        /// `requested`, `valid`, `suspended` or `ended`.
        pub state: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The stored code of a state (also the `state` of the
/// `EnterpriseLicenceRecorded` event).
pub fn state_code(state: CertificateState) -> &'static str {
    match state {
        CertificateState::Requested => "requested",
        CertificateState::Valid => "valid",
        CertificateState::Suspended => "suspended",
        CertificateState::Ended => "ended",
    }
}

fn state_of(code: &str) -> Option<CertificateState> {
    Some(match code {
        "requested" => CertificateState::Requested,
        "valid" => CertificateState::Valid,
        "suspended" => CertificateState::Suspended,
        "ended" => CertificateState::Ended,
        _ => return None,
    })
}

fn from_row(row: entry::Model) -> Result<LicenceEntry, DbErr> {
    let corrupt = |what: String| {
        DbErr::Custom(format!(
            "licence {} of enterprise {}: {what}",
            row.request_id, row.uscc
        ))
    };
    let items = serde_json::from_str(&row.items).map_err(|e| corrupt(e.to_string()))?;
    let state = state_of(&row.state).ok_or_else(|| corrupt(format!("state {}", row.state)))?;
    Ok(LicenceEntry {
        request_id: row.request_id,
        certificate_id: row.certificate_id,
        certificate_type: row.certificate_type,
        items,
        issued_on: row.issued_on,
        valid_until: row.valid_until,
        state,
    })
}

fn to_row(uscc: &str, entry: &LicenceEntry) -> entry::ActiveModel {
    entry::ActiveModel {
        uscc: Set(uscc.to_owned()),
        request_id: Set(entry.request_id.clone()),
        certificate_id: Set(entry.certificate_id.clone()),
        certificate_type: Set(entry.certificate_type.clone()),
        items: Set(serde_json::to_string(&entry.items).unwrap_or_else(|_| "[]".into())),
        issued_on: Set(entry.issued_on),
        valid_until: Set(entry.valid_until),
        state: Set(state_code(entry.state).to_owned()),
    }
}

/// Which of an enterprise's entries an event is about.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// The entry of this issue request; a new one (of this certificate
    /// type) when there is none yet.
    Request {
        /// The request's id.
        id: &'a str,
        /// Its certificate type.
        certificate_type: &'a str,
    },
    /// The entry of this issued certificate; none when it is not on file.
    Certificate(&'a str),
}

/// The entry `which` of `uscc`: the one on file, a new one for a request,
/// `None` for a certificate not on file.
pub async fn find(
    conn: &impl ConnectionTrait,
    uscc: &str,
    which: Which<'_>,
) -> Result<Option<LicenceEntry>, DbErr> {
    let query = entry::Entity::find().filter(entry::Column::Uscc.eq(uscc));
    let row = match which {
        Which::Request { id, .. } => query.filter(entry::Column::RequestId.eq(id)),
        Which::Certificate(id) => query.filter(entry::Column::CertificateId.eq(id)),
    }
    .one(conn)
    .await?;
    match (row, which) {
        (Some(row), _) => from_row(row).map(Some),
        (
            None,
            Which::Request {
                id,
                certificate_type,
            },
        ) => Ok(Some(LicenceEntry::new(id, certificate_type))),
        (None, Which::Certificate(_)) => Ok(None),
    }
}

/// Every entry of `uscc`, by request id.
pub async fn all_of(conn: &impl ConnectionTrait, uscc: &str) -> Result<Vec<LicenceEntry>, DbErr> {
    entry::Entity::find()
        .filter(entry::Column::Uscc.eq(uscc))
        .order_by_asc(entry::Column::RequestId)
        .all(conn)
        .await?
        .into_iter()
        .map(from_row)
        .collect()
}

fn replace() -> OnConflict {
    OnConflict::columns([entry::Column::Uscc, entry::Column::RequestId])
        .update_columns([
            entry::Column::CertificateId,
            entry::Column::CertificateType,
            entry::Column::Items,
            entry::Column::IssuedOn,
            entry::Column::ValidUntil,
            entry::Column::State,
        ])
        .to_owned()
}

/// Stores entries of `uscc`, replacing those on file (one statement per 500).
pub async fn save(
    conn: &impl ConnectionTrait,
    uscc: &str,
    entries: &[LicenceEntry],
) -> Result<(), DbErr> {
    for chunk in entries.chunks(500) {
        entry::Entity::insert_many(chunk.iter().map(|e| to_row(uscc, e)))
            .on_conflict(replace())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Creates `enterprise_licences` and moves the entries the records held
/// in their JSON into it, leaving each record the counts of what it holds.
pub struct MoveLicencesOut;

impl MigrationName for MoveLicencesOut {
    fn name(&self) -> &str {
        "m0330_enterprise_licences"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MoveLicencesOut {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("enterprise_licences")
                    .if_not_exists()
                    .col(string("uscc"))
                    .col(string("request_id"))
                    .col(string_null("certificate_id"))
                    .col(string("certificate_type"))
                    .col(text("items"))
                    .col(date_null("issued_on"))
                    .col(date_null("valid_until"))
                    .col(string("state"))
                    .primary_key(Index::create().col("uscc").col("request_id"))
                    .to_owned(),
            )
            .await?;
        // A status change names the certificate, not the request.
        manager
            .create_index(
                Index::create()
                    .name("enterprise_licences_certificate")
                    .table("enterprise_licences")
                    .col("uscc")
                    .col("certificate_id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        move_out(manager.get_connection()).await
    }
}

/// The records in pages of 200 by USCC, each moved by
/// [`profile::move_licences_out`](super::profile::move_licences_out).
async fn move_out(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    let mut after = String::new();
    loop {
        let rows = record::Entity::find()
            .filter(record::Column::Uscc.gt(after.as_str()))
            .order_by_asc(record::Column::Uscc)
            .limit(200)
            .all(conn)
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.uscc.clone();
        for row in rows {
            super::profile::move_licences_out(conn, row).await?;
        }
    }
}
