//! 一企一档 persistence: loading and saving an enterprise's record, the
//! officer-set facts, and re-matching the policies in force whenever the
//! record changes (in the same transaction, so a licence issued and the
//! benefit it makes the enterprise eligible for commit together).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use yizhan_events::contracts::{Actor, EnterpriseFactSet, EnterpriseLicenceRecorded};
use yizhan_workflow::Error;

use super::SOURCE;
use super::benefits_schema::record;
use crate::domain::facts::{FACTS, FactValue, Profile, fact};
use crate::domain::profile::{
    CertificateState, EnterpriseRecord, LicenceEntry, MaterialOnFile, OfficerFact,
};

/// A fact as stored: the value as JSON, read back by its fact's kind.
#[derive(Serialize, Deserialize)]
struct StoredFact {
    value: serde_json::Value,
    source: String,
    set_by: String,
    set_at: DateTime<Utc>,
}

/// The `record` column.
#[derive(Deserialize, Default)]
struct StoredRecord {
    licences: BTreeMap<String, LicenceEntry>,
    materials: BTreeMap<String, MaterialOnFile>,
    facts: BTreeMap<String, Vec<StoredFact>>,
}

/// The `record` column as written: [`StoredRecord`] borrowing the record's
/// licences and materials, which grow with every licence an enterprise
/// holds, rather than copying them to serialise them.
#[derive(Serialize)]
struct StoredRecordRef<'a> {
    licences: &'a BTreeMap<String, LicenceEntry>,
    materials: &'a BTreeMap<String, MaterialOnFile>,
    facts: BTreeMap<&'a str, Vec<StoredFact>>,
}

fn corrupt(uscc: &str, what: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("enterprise record {uscc}: {what}"))
}

fn from_row(row: record::Model) -> Result<EnterpriseRecord, DbErr> {
    let stored: StoredRecord =
        serde_json::from_str(&row.record).map_err(|e| corrupt(&row.uscc, e))?;
    let mut facts = BTreeMap::new();
    for (key, history) in stored.facts {
        let (_, def) = fact(&key).ok_or_else(|| corrupt(&row.uscc, &key))?;
        let history = history
            .into_iter()
            .map(|f| {
                Ok(OfficerFact {
                    value: FactValue::parse(def.kind, &f.value)
                        .map_err(|e| corrupt(&row.uscc, e))?,
                    source: f.source,
                    set_by: f.set_by,
                    set_at: f.set_at,
                })
            })
            .collect::<Result<Vec<_>, DbErr>>()?;
        facts.insert(key, history);
    }
    Ok(EnterpriseRecord {
        uscc: row.uscc,
        name: row.name,
        licences: stored.licences,
        materials: stored.materials,
        facts,
    })
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// The row of `record`: the matcher's columns (latest facts, licences
/// held, from `profile`, the record's own) beside the whole record.
fn to_row(record: &EnterpriseRecord, profile: &Profile, now: DateTime<Utc>) -> record::ActiveModel {
    let latest: BTreeMap<&str, &FactValue> = FACTS
        .iter()
        .enumerate()
        .filter_map(|(i, def)| profile.get(i).map(|v| (def.key, v)))
        .collect();
    let stored = StoredRecordRef {
        licences: &record.licences,
        materials: &record.materials,
        facts: record
            .facts
            .iter()
            .map(|(k, history)| {
                let history = history
                    .iter()
                    .map(|f| StoredFact {
                        value: serde_json::to_value(&f.value).unwrap_or_default(),
                        source: f.source.clone(),
                        set_by: f.set_by.clone(),
                        set_at: f.set_at,
                    })
                    .collect();
                (k.as_str(), history)
            })
            .collect(),
    };
    record::ActiveModel {
        uscc: Set(record.uscc.clone()),
        name: Set(record.name.clone()),
        facts: Set(json(&latest)),
        licences: Set(json(&profile.licences)),
        record: Set(json(&stored)),
        updated_at: Set(now),
    }
}

/// The record of `uscc`, if anything is known about it.
pub async fn load(
    conn: &impl ConnectionTrait,
    uscc: &str,
) -> Result<Option<EnterpriseRecord>, DbErr> {
    record::Entity::find_by_id(uscc.to_owned())
        .one(conn)
        .await?
        .map(from_row)
        .transpose()
}

/// A second write of a record replaces every column.
fn replace() -> OnConflict {
    OnConflict::column(record::Column::Uscc)
        .update_columns([
            record::Column::Name,
            record::Column::Facts,
            record::Column::Licences,
            record::Column::Record,
            record::Column::UpdatedAt,
        ])
        .to_owned()
}

async fn save(
    conn: &impl ConnectionTrait,
    record: &EnterpriseRecord,
    profile: &Profile,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    record::Entity::insert(to_row(record, profile, now))
        .on_conflict(replace())
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// Serialises changes to one enterprise's record (events and officers).
async fn lock(txn: &DatabaseTransaction, uscc: &str) -> Result<EnterpriseRecord, DbErr> {
    yizhan_kit::db::lock_key(txn, &format!("enterprise:{uscc}")).await?;
    Ok(load(txn, uscc)
        .await?
        .unwrap_or_else(|| EnterpriseRecord::new(uscc)))
}

fn state_code(state: CertificateState) -> &'static str {
    match state {
        CertificateState::Requested => "requested",
        CertificateState::Valid => "valid",
        CertificateState::Suspended => "suspended",
        CertificateState::Ended => "ended",
    }
}

/// Applies `change` to the record of `uscc` in the consumer's
/// transaction. When it changed anything, the record is saved, every
/// licence entry that changed is published, and the policies in force are
/// matched again; an event applied twice changes nothing the second time.
pub async fn apply(
    txn: &DatabaseTransaction,
    uscc: &str,
    change: impl FnOnce(&mut EnterpriseRecord),
) -> Result<(), DbErr> {
    let before = lock(txn, uscc).await?;
    let mut record = before.clone();
    change(&mut record);
    if record == before {
        return Ok(());
    }
    let now = Utc::now();
    // Built once: the record's profile walks every licence it holds.
    let profile = record.profile();
    save(txn, &record, &profile, now).await?;
    for (id, entry) in &record.licences {
        if before.licences.get(id) == Some(entry) {
            continue;
        }
        yizhan_events::outbox::enqueue(
            txn,
            SOURCE,
            &EnterpriseLicenceRecorded {
                enterprise_uscc: uscc.to_owned(),
                request_id: id.clone(),
                certificate_id: entry.certificate_id.clone(),
                item_codes: entry.items.iter().map(|(c, _)| c.clone()).collect(),
                state: state_code(entry.state).to_owned(),
                at: now,
            },
        )
        .await?;
    }
    if profile != before.profile() {
        super::matching::match_enterprise(txn, &record, &profile, now).await?;
    }
    Ok(())
}

/// An officer sets a fact of `uscc`'s profile (refused naming `value`,
/// `source` or the fact); the change is published and the policies in
/// force are matched again. Setting the same value from the same source
/// again changes nothing.
pub async fn set_fact(
    db: &DatabaseConnection,
    uscc: &str,
    key: &str,
    value: &serde_json::Value,
    source: &str,
    actor: &Actor,
) -> Result<EnterpriseRecord, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let mut record = lock(&txn, uscc).await?;
    let now = Utc::now();
    let changed = record
        .set_fact(key, value, source, &actor.sub, now)
        .map_err(|(field, message)| Error::field(field, "invalid_fact", message))?;
    if changed {
        let profile = record.profile();
        save(&txn, &record, &profile, now).await?;
        let (index, def) = fact(key).ok_or_else(|| Error::field("fact", "unknown_fact", key))?;
        let display = profile
            .get(index)
            .map(|v| v.display(def))
            .unwrap_or_default();
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &EnterpriseFactSet {
                enterprise_uscc: uscc.to_owned(),
                fact: key.to_owned(),
                fact_name: def.name.to_owned(),
                value_display: display,
                source: source.trim().to_owned(),
                actor: actor.clone(),
                at: now,
            },
        )
        .await?;
        super::matching::match_enterprise(&txn, &record, &profile, now).await?;
    }
    txn.commit().await?;
    Ok(record)
}

/// Stores records in bulk (one multi-row insert per 500), replacing any
/// on file: the initial load of 一企一档 from an existing register, and the
/// matching benchmark's seed. Publishes nothing and matches nothing; the
/// next policy published matches them all.
pub async fn import(
    conn: &impl ConnectionTrait,
    records: &[EnterpriseRecord],
) -> Result<(), DbErr> {
    let now = Utc::now();
    for chunk in records.chunks(500) {
        record::Entity::insert_many(chunk.iter().map(|r| to_row(r, &r.profile(), now)))
            .on_conflict(replace())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}
