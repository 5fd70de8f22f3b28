//! Matching one 免申即享 policy against 300,000 seeded enterprise profiles:
//! first in memory (the rule's evaluation alone), then from the store —
//! the profiles seeded into a SQLite database through the store's bulk
//! import, and each round loading every one of them, evaluating the rule
//! and explaining every match (what publishing a policy does before it
//! records the candidates).
//!
//! `cargo bench -p yizhan-enterprise --bench matching [-- --profiles N --rounds R]`
//! prints the median and the spread of R rounds of each.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use serde_json::json;
use yizhan_enterprise::domain::amount::AmountRule;
use yizhan_enterprise::domain::benefits::Policy;
use yizhan_enterprise::domain::profile::{CertificateState, EnterpriseRecord, LicenceEntry};
use yizhan_enterprise::domain::rules::Rule;
use yizhan_enterprise::store::{Migrator, matching, profile};

/// A small deterministic generator (SplitMix64), so every run matches the
/// same profiles; not worth a dependency.
struct Seed(u64);

impl Seed {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % below
    }
}

const ITEMS: [(&str, &str); 3] = [
    ("special_trade_permit_hotel", "特种行业许可（旅馆业）"),
    ("business_licence", "营业执照"),
    ("food_business_permit", "食品经营许可"),
];

/// `n` records, each with its licence entries.
fn records(n: usize) -> Vec<(EnterpriseRecord, Vec<LicenceEntry>)> {
    let mut seed = Seed(20261203);
    let base = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let at = Utc::now();
    (0..n)
        .map(|i| {
            let mut r = EnterpriseRecord::new(format!("91350100MA{i:08}"));
            let class = ["large", "medium", "small", "micro"][seed.next(4) as usize];
            let facts = [
                ("size_class", json!(class)),
                ("employee_count", json!(seed.next(400))),
                ("industry_code", json!(format!("I{}", 60 + seed.next(10)))),
                ("high_tech", json!(seed.next(5) == 0)),
            ];
            for (key, value) in facts {
                r.set_fact(key, &value, "统计年报 2025", "bench", at)
                    .expect("a valid fact");
            }
            let mut entries = Vec::new();
            for l in 0..seed.next(4) {
                let (code, name) = ITEMS[seed.next(3) as usize];
                let new =
                    LicenceEntry::new(&format!("app-{i}-{l}"), "industry_comprehensive_licence");
                let mut entry = new.clone();
                r.on_issue_requested(&format!("企业{i}"));
                entry.on_issue_requested(vec![(code.into(), name.into())]);
                let issued = base + Days::new(seed.next(1000));
                entry.on_certificate_issued(&format!("cert-{i}-{l}"), issued, None);
                if seed.next(50) == 0 {
                    entry.on_status_changed(CertificateState::Ended);
                }
                r.recount(&new, &entry);
                entries.push(entry);
            }
            (r, entries)
        })
        .collect()
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn spread(mut times: Vec<Duration>) -> String {
    times.sort();
    format!(
        "median {:?} (min {:?}, max {:?}) over {} rounds",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    )
}

fn main() {
    let n = arg("--profiles", 300_000);
    let rounds = arg("--rounds", 5);
    let names: matching::ItemNames = ITEMS
        .iter()
        .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()))
        .collect();
    let items = |code: &str| names.get(code).cloned();
    let rule = Rule::parse(
        &json!({"all": [
            {"licence": "special_trade_permit_hotel", "issued_after": "2025-01-01"},
            {"any": [
                {"fact": "size_class", "in": ["small", "micro"]},
                {"all": [
                    {"fact": "employee_count", "op": "le", "value": 50},
                    {"fact": "industry_code", "in": ["I61", "I62", "I65"]}
                ]}
            ]},
            {"not": {"fact": "high_tech", "op": "eq", "value": true}}
        ]}),
        &items,
    )
    .expect("the bench policy parses");
    let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let policy = Policy {
        title: "小型旅馆纾困补助".into(),
        eligibility: rule.clone(),
        amount: AmountRule::parse(&json!({"fixed_fen": 500_000})).unwrap(),
        budget_fen: 1_000_000_000,
        valid_from: today,
        valid_until: today,
    };

    let seeded = Instant::now();
    let all = records(n);
    let profiles: Vec<_> = all.iter().map(|(r, _)| r.profile()).collect();
    println!("seeded {n} records in {:?}", seeded.elapsed());

    let mut times = Vec::new();
    let mut matched = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        matched = profiles.iter().filter(|p| rule.holds(p, today)).count();
        times.push(start.elapsed());
    }
    println!(
        "in memory: {n} profiles, {matched} eligible; {}",
        spread(times)
    );
    let start = Instant::now();
    let explained: usize = profiles
        .iter()
        .filter_map(|p| rule.explain(p, today, &items))
        .map(|lines| lines.len())
        .sum();
    println!(
        "explain every match: {:?} ({explained} reason lines)",
        start.elapsed()
    );

    actix_web::rt::System::new().block_on(async {
        let dir = std::env::temp_dir().join(format!("yizhan-matching-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/enterprise.db?mode=rwc", dir.display());
        let db = yizhan_kit::db::connect_and_migrate::<Migrator>(&url)
            .await
            .expect("the bench database");
        let start = Instant::now();
        profile::import(&db, &all).await.expect("import");
        println!("imported {n} records into SQLite in {:?}", start.elapsed());
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..rounds {
            let start = Instant::now();
            found = matching::eligible(&db, &policy, &names, today)
                .await
                .expect("matching")
                .len();
            times.push(start.elapsed());
        }
        assert_eq!(found, matched, "the store matches what memory does");
        println!(
            "from the store (load + match + explain): {n} profiles, {found} eligible; {}",
            spread(times)
        );
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    });
}
