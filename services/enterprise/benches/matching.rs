//! Matching one 免申即享 policy against 300,000 seeded enterprise profiles,
//! in memory: the evaluation half of the "under 10 s" target (the
//! store's load of the profiles is the other half, measured when the
//! service's store lands).
//!
//! `cargo bench -p yizhan-enterprise --bench matching [-- --profiles N --rounds R]`
//! prints the median and the spread of R rounds, the matches and the time
//! to explain every match in Chinese.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use serde_json::json;
use yizhan_enterprise::domain::facts::{FactValue, HeldLicence, Profile, fact};
use yizhan_enterprise::domain::rules::Rule;

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

fn items(code: &str) -> Option<String> {
    (code == "special_trade_permit_hotel").then(|| "特种行业许可证（旅馆业）".to_owned())
}

fn profiles(n: usize) -> Vec<Profile> {
    let mut seed = Seed(20261203);
    let (size, _) = fact("size_class").unwrap();
    let (staff, _) = fact("employee_count").unwrap();
    let (industry, _) = fact("industry_code").unwrap();
    let (high_tech, _) = fact("high_tech").unwrap();
    let base = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    (0..n)
        .map(|_| {
            let mut p = Profile::new();
            let class = ["large", "medium", "small", "micro"][seed.next(4) as usize];
            p.set(size, FactValue::Text(class.to_owned()));
            p.set(staff, FactValue::Integer(seed.next(400) as i64));
            p.set(
                industry,
                FactValue::Text(format!("I{}", 60 + seed.next(10))),
            );
            p.set(high_tech, FactValue::Flag(seed.next(5) == 0));
            for _ in 0..seed.next(4) {
                let item = [
                    "special_trade_permit_hotel",
                    "business_licence",
                    "food_licence",
                ][seed.next(3) as usize];
                p.licences.push(HeldLicence {
                    item: item.to_owned(),
                    issued_on: base + Days::new(seed.next(1000)),
                    valid_until: None,
                    revoked: seed.next(50) == 0,
                });
            }
            p
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

fn main() {
    let n = arg("--profiles", 300_000);
    let rounds = arg("--rounds", 5);
    let items = |code: &str| items(code);
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
    let seeded = Instant::now();
    let all = profiles(n);
    println!("seeded {n} profiles in {:?}", seeded.elapsed());
    let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();

    let mut times: Vec<Duration> = Vec::new();
    let mut matched = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        matched = all.iter().filter(|p| rule.holds(p, today)).count();
        times.push(start.elapsed());
    }
    times.sort();
    let start = Instant::now();
    let explained: usize = all
        .iter()
        .filter_map(|p| rule.explain(p, today, &items))
        .map(|lines| lines.len())
        .sum();
    let explain = start.elapsed();
    println!(
        "match: {n} profiles, {matched} eligible; median {:?} (min {:?}, max {:?}) over {rounds} rounds",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
    println!("explain every match: {explain:?} ({explained} reason lines)");
}
