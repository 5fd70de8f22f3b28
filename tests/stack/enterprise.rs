//! The enterprise service (企业服务) in the stack: it starts beside the
//! others, consumes their topics and answers its reference data with
//! Chinese names.

use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::common::*;

async fn the_fact_catalog_names_every_fact_in_chinese(backend: Backend) {
    let stack = TestStack::start(&[Service::Enterprise], backend).await;
    // Public reference data: no token needed.
    let r = stack
        .client
        .get(stack.url(Service::Enterprise, "/api/v1/facts"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    let facts = body["facts"].as_array().unwrap();
    let employees = facts
        .iter()
        .find(|f| f["key"] == "employee_count")
        .expect("employee_count is a fact");
    assert_eq!(employees["name"], "从业人数");
    assert_eq!(employees["kind"], "integer");
    assert_eq!(employees["unit"], "人");
    let size = facts.iter().find(|f| f["key"] == "size_class").unwrap();
    assert_eq!(size["kind"], "code");
    assert!(
        size["choices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "small" && c["name"] == "小型")
    );
    // Every fact has a Chinese name, never its key.
    for fact in facts {
        let name = fact["name"].as_str().unwrap();
        assert!(!name.is_empty() && !name.is_ascii(), "{fact}");
    }
    stack.stop().await;
}

yizhan_kit::backend_tests!(the_fact_catalog_names_every_fact_in_chinese);
