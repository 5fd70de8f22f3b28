//! 一企一档 persistence: loading and saving an enterprise's record, the
//! officer-set facts, and re-matching the policies in force whenever the
//! record changes (in the same transaction, so a licence issued and the
//! benefit it makes the enterprise eligible for commit together).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, Set,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use yizhan_events::contracts::{Actor, EnterpriseFactSet, EnterpriseLicenceRecorded};
use yizhan_workflow::Error;

use super::SOURCE;
use super::benefits_schema::record;
use super::licences::{self, Which, state_code};
use crate::domain::facts::{FACTS, FactValue, HeldLicence, Profile, fact};
use crate::domain::profile::{EnterpriseRecord, LicenceEntry, MaterialOnFile, OfficerFact};

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
    materials: BTreeMap<String, MaterialOnFile>,
    facts: BTreeMap<String, Vec<StoredFact>>,
    /// What is held, with how many entries hold it (JSON has no struct
    /// keys, hence pairs).
    #[serde(default)]
    held: Vec<(HeldLicence, u32)>,
    /// The licence entries, as records held them before they had a table
    /// of their own; read only to move them there
    /// ([`move_licences_out`]).
    #[serde(default)]
    licences: BTreeMap<String, LicenceEntry>,
}

/// The `record` column as written: [`StoredRecord`] borrowing the record's
/// materials and counts rather than copying them to serialise them.
#[derive(Serialize)]
struct StoredRecordRef<'a> {
    materials: &'a BTreeMap<String, MaterialOnFile>,
    facts: BTreeMap<&'a str, Vec<StoredFact>>,
    held: Vec<(&'a HeldLicence, u32)>,
}

fn corrupt(uscc: &str, what: impl std::fmt::Display) -> DbErr {
    DbErr::Custom(format!("enterprise record {uscc}: {what}"))
}

/// The record of a row, and the licence entries its JSON still holds
/// (none, once [`move_licences_out`] has run).
fn from_row(row: record::Model) -> Result<(EnterpriseRecord, Vec<LicenceEntry>), DbErr> {
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
    let record = EnterpriseRecord {
        uscc: row.uscc,
        name: row.name,
        materials: stored.materials,
        facts,
        held: stored.held.into_iter().collect(),
    };
    Ok((record, stored.licences.into_values().collect()))
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
        held: record.held.iter().map(|(h, n)| (h, *n)).collect(),
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
    Ok(record::Entity::find_by_id(uscc.to_owned())
        .one(conn)
        .await?
        .map(from_row)
        .transpose()?
        .map(|(record, _)| record))
}

/// Moves the licence entries a record row still holds in its JSON into
/// `enterprise_licences`, and rewrites the row with the counts of what
/// they hold instead (the migration [`MoveLicencesOut`](super::licences::MoveLicencesOut)).
pub(super) async fn move_licences_out(
    conn: &impl ConnectionTrait,
    row: record::Model,
) -> Result<(), DbErr> {
    let updated_at = row.updated_at;
    let (mut record, entries) = from_row(row)?;
    if entries.is_empty() {
        return Ok(());
    }
    record.held.clear();
    for entry in &entries {
        let new = LicenceEntry::new(&entry.request_id, &entry.certificate_type);
        record.recount(&new, entry);
    }
    licences::save(conn, &record.uscc, &entries).await?;
    // The profile is unchanged: the matcher's columns come out the same.
    save(conn, &record, &record.profile(), updated_at).await
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

/// Saves `record` (changed from `before`) and, when its profile changed,
/// matches the policies in force again.
async fn save_and_match(
    txn: &DatabaseTransaction,
    before: &EnterpriseRecord,
    record: &EnterpriseRecord,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    // Built once each: the matcher compares and reads them.
    let profile = record.profile();
    save(txn, record, &profile, now).await?;
    if profile != before.profile() {
        super::matching::match_enterprise(txn, record, &profile, now).await?;
    }
    Ok(())
}

/// Applies `change` to the record of `uscc` in the consumer's
/// transaction; when it changed anything, the record is saved and the
/// policies in force are matched again. An event applied twice changes
/// nothing the second time.
pub async fn apply(
    txn: &DatabaseTransaction,
    uscc: &str,
    change: impl FnOnce(&mut EnterpriseRecord),
) -> Result<(), DbErr> {
    let before = lock(txn, uscc).await?;
    let mut record = before.clone();
    change(&mut record);
    if record != before {
        save_and_match(txn, &before, &record, Utc::now()).await?;
    }
    Ok(())
}

/// Applies `change` to the licence entry `which` of `uscc` (and to its
/// record: the holder's name) in the consumer's transaction. A changed
/// entry is stored and published, and the record counts what it holds
/// anew; the rest as [`apply`]. Answers `false` when `which` names a
/// certificate not on file (nothing is changed).
pub async fn apply_licence(
    txn: &DatabaseTransaction,
    uscc: &str,
    which: Which<'_>,
    change: impl FnOnce(&mut EnterpriseRecord, &mut LicenceEntry),
) -> Result<bool, DbErr> {
    let before = lock(txn, uscc).await?;
    let Some(entry_before) = licences::find(txn, uscc, which).await? else {
        return Ok(false);
    };
    let mut record = before.clone();
    let mut entry = entry_before.clone();
    change(&mut record, &mut entry);
    let now = Utc::now();
    if entry != entry_before {
        record.recount(&entry_before, &entry);
        licences::save(txn, uscc, std::slice::from_ref(&entry)).await?;
        yizhan_events::outbox::enqueue(
            txn,
            SOURCE,
            &EnterpriseLicenceRecorded {
                enterprise_uscc: uscc.to_owned(),
                request_id: entry.request_id.clone(),
                certificate_id: entry.certificate_id.clone(),
                item_codes: entry.items.iter().map(|(c, _)| c.clone()).collect(),
                state: state_code(entry.state).to_owned(),
                at: now,
            },
        )
        .await?;
    }
    if record != before {
        save_and_match(txn, &before, &record, now).await?;
    }
    Ok(true)
}

/// The record of `uscc` (empty when nothing is known about it) and its
/// licence entries, as of one moment.
pub async fn load_with_licences(
    db: &DatabaseConnection,
    uscc: &str,
) -> Result<(EnterpriseRecord, Vec<LicenceEntry>), DbErr> {
    let txn = db.begin().await?;
    let record = load(&txn, uscc)
        .await?
        .unwrap_or_else(|| EnterpriseRecord::new(uscc));
    let licences = licences::all_of(&txn, uscc).await?;
    txn.commit().await?;
    Ok((record, licences))
}

/// An officer sets a fact of `uscc`'s profile (refused naming `value`,
/// `source` or the fact); the change is published and the policies in
/// force are matched again. Setting the same value from the same source
/// again changes nothing. Answers the record and its licence entries.
pub async fn set_fact(
    db: &DatabaseConnection,
    uscc: &str,
    key: &str,
    value: &serde_json::Value,
    source: &str,
    actor: &Actor,
) -> Result<(EnterpriseRecord, Vec<LicenceEntry>), Error> {
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
    let licences = licences::all_of(&txn, uscc).await?;
    txn.commit().await?;
    Ok((record, licences))
}

/// Stores records and their licence entries in bulk (one multi-row
/// insert per 500 records), replacing any on file: the initial load of
/// 一企一档 from an existing register, and the matching benchmark's seed.
/// Each record's held counts must be those of its entries
/// ([`EnterpriseRecord::recount`]). Publishes nothing and matches nothing;
/// the next policy published matches them all.
pub async fn import(
    conn: &impl ConnectionTrait,
    records: &[(EnterpriseRecord, Vec<LicenceEntry>)],
) -> Result<(), DbErr> {
    let now = Utc::now();
    for chunk in records.chunks(500) {
        record::Entity::insert_many(chunk.iter().map(|(r, _)| to_row(r, &r.profile(), now)))
            .on_conflict(replace())
            .exec_without_returning(conn)
            .await?;
        for (record, entries) in chunk {
            licences::save(conn, &record.uscc, entries).await?;
        }
    }
    Ok(())
}
