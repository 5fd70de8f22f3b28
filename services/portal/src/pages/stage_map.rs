//! The construction stage map: a project's category's stages in order,
//! each with where the project stands (办结, 办理中, 可申报, 未开始), so a
//! builder sees at a glance how far the four-stage approval has come. The
//! stages come from the construction service's categories; where each
//! stands is read from the project's own stage applications.

use serde_json::{Value, json};

/// Where the project stands at each stage of its category, in order.
/// `categories` is the construction service's `/api/v1/categories`;
/// an unknown category draws no map.
pub fn stage_map(categories: &Value, project: &Value) -> Vec<Value> {
    let Some(category) = categories
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["code"] == project["category"])
    else {
        return Vec::new();
    };
    let filed = project["stages"].as_array().cloned().unwrap_or_default();
    category["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(n, stage)| {
            // The latest application of this stage says where it stands
            // (a refused one may have been filed again).
            let latest = filed.iter().rev().find(|s| s["stage"] == stage["stage"]);
            let (state, state_name) = match latest {
                Some(s) if s["status"] == "completed" => ("done", "已办结".to_owned()),
                Some(s) => (
                    "active",
                    s["status_name"].as_str().unwrap_or("办理中").to_owned(),
                ),
                None if project["next_stage"] == stage["stage"] => ("next", "可申报".to_owned()),
                None => ("later", "未开始".to_owned()),
            };
            json!({
                "number": n + 1,
                "name": stage["stage_name"],
                "state": state,
                "state_name": state_name,
                "used_days": latest.map(|s| s["used_working_days"].clone()),
                "items": stage["items"].as_array().map_or(0, Vec::len),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn categories() -> Value {
        json!([{"code": "small_low_risk", "name": "社会投资小型低风险项目", "stages": [
            {"stage": "land_planning", "stage_name": "立项用地规划许可", "items": ["a", "b"]},
            {"stage": "engineering_permit", "stage_name": "工程建设许可", "items": ["c"]},
            {"stage": "construction_permit", "stage_name": "施工许可", "items": ["d"]},
            {"stage": "completion", "stage_name": "竣工验收", "items": ["e", "f"]},
        ]}])
    }

    #[test]
    fn each_stage_says_where_the_project_stands() {
        let project = json!({"category": "small_low_risk", "next_stage": "construction_permit",
        "stages": [
            {"stage": "land_planning", "status": "completed", "status_name": "阶段办结", "used_working_days": 3.5},
            {"stage": "engineering_permit", "status": "rejected", "status_name": "不予受理", "used_working_days": null},
            {"stage": "engineering_permit", "status": "completed", "status_name": "阶段办结", "used_working_days": 4},
        ]});
        let map = stage_map(&categories(), &project);
        let states: Vec<&str> = map.iter().map(|s| s["state"].as_str().unwrap()).collect();
        assert_eq!(states, ["done", "done", "next", "later"]);
        assert_eq!(map[0]["used_days"], 3.5);
        assert_eq!(map[2]["state_name"], "可申报");
        assert_eq!(map[3]["items"], 2);
        assert_eq!(map[3]["number"], 4);
    }

    #[test]
    fn a_stage_in_progress_shows_its_status_and_an_unknown_category_no_map() {
        let project = json!({"category": "small_low_risk", "next_stage": null,
            "stages": [{"stage": "land_planning", "status": "in_review", "status_name": "审批中"}]});
        let map = stage_map(&categories(), &project);
        assert_eq!(map[0]["state"], "active");
        assert_eq!(map[0]["state_name"], "审批中");
        assert_eq!(map[1]["state"], "later");
        assert!(stage_map(&categories(), &json!({"category": "nope"})).is_empty());
    }
}
