//! Unit tests of the stack wiring: settings in layers, service lists.

use super::*;

/// Defaults, then the file named by `YIZHAN_CONFIG`, then `YIZHAN_` env
/// (which wins), plus the unprefixed `KAFKA_BROKERS`.
#[test]
fn settings_load_in_layers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("yizhan.toml");
    std::fs::write(
        &file,
        "data_dir = \"/srv/yizhan\"\n\
         [http]\nhost = \"0.0.0.0\"\n\
         [outbox]\nbatch_size = 7\npoll_interval_ms = 250\n\
         [document]\nport = 9001\nmax_upload_bytes = 1000\n",
    )
    .unwrap();
    // SAFETY: this is the only test in this binary that touches the
    // environment, and nextest runs each test in its own process.
    unsafe {
        std::env::set_var("YIZHAN_CONFIG", &file);
        std::env::set_var("YIZHAN_OUTBOX__BATCH_SIZE", "9");
        std::env::set_var(
            "YIZHAN_NOTIFICATION__DATABASE_URL",
            "postgres://u:p@db/notification",
        );
        std::env::set_var("KAFKA_BROKERS", "kafka-0:9092,kafka-1:9092");
    }
    let s = StackSettings::load().unwrap();
    assert_eq!(s.common.data_dir, std::path::PathBuf::from("/srv/yizhan"));
    assert_eq!(s.common.http.host, "0.0.0.0");
    assert_eq!(s.common.outbox.batch_size, 9, "env beats file");
    assert_eq!(s.common.outbox.poll_interval_ms, 250, "file beats default");
    assert_eq!(s.common.http.shutdown_timeout_secs, 30, "default kept");
    assert_eq!(
        s.common.kafka.brokers.as_deref(),
        Some("kafka-0:9092,kafka-1:9092")
    );
    assert_eq!(s.services.document.port, 9001);
    assert_eq!(s.services.document.max_upload_bytes, 1000);
    assert_eq!(s.services.licensing.port, 8081);
    assert_eq!(
        s.services.notification.database_url.as_deref(),
        Some("postgres://u:p@db/notification")
    );
    unsafe {
        std::env::set_var("YIZHAN_OUTBOX__BATCH_SIZE", "many");
    }
    let err = format!("{:#}", StackSettings::load().unwrap_err());
    assert!(
        err.contains("batch_size"),
        "a bad value names its key: {err}"
    );
}

/// What client generators need of every committed document: unique
/// operation ids (webhooks included), no `allOf` over a `oneOf` (which
/// generators drop), a server, a licence and a contact.
#[test]
fn documents_are_whole_for_client_generators() {
    for service in Service::ALL {
        let doc = serde_json::to_value(service.openapi()).unwrap();
        let name = service.name();
        let mut ids: Vec<String> = ["paths", "webhooks"]
            .iter()
            .filter_map(|section| doc[section].as_object())
            .flat_map(|items| items.values())
            .filter_map(|item| item.as_object())
            .flat_map(|ops| ops.values())
            .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
            .collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "{name}: an operationId repeats");
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for (schema_name, schema) in schemas {
            for part in schema["allOf"].as_array().into_iter().flatten() {
                if let Some(target) = part["$ref"].as_str() {
                    let target = target.rsplit('/').next().unwrap();
                    assert!(
                        schemas[target].get("oneOf").is_none(),
                        "{name}: {schema_name} is allOf of the union {target}"
                    );
                }
            }
        }
        assert!(doc["servers"][0]["url"].is_string(), "{name}: no server");
        assert!(doc["info"]["license"]["name"].is_string(), "{name}");
        assert!(doc["info"]["contact"]["email"].is_string(), "{name}");
    }
}

/// The enterprise service knows the licensing catalog's items from a copy
/// made into its migration (it must not call licensing to publish a
/// policy): the copy names exactly the seeded items, with their names.
#[test]
fn the_enterprise_services_items_are_the_licensing_seed() {
    let seeded: Vec<(String, String)> = yizhan_licensing::seed::catalog()
        .items
        .into_iter()
        .map(|i| (i.code, i.name))
        .collect();
    let copied: Vec<(String, String)> = yizhan_enterprise::store::benefits_schema::SEEDED_ITEMS
        .iter()
        .map(|(c, n)| ((*c).to_owned(), (*n).to_owned()))
        .collect();
    assert_eq!(copied, seeded);
}
