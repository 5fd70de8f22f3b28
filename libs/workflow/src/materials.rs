//! Checks the material ids a case references (an application's, a stage's,
//! a 补正's) against the document service (一企一档), over its REST API with
//! a timeout: the same check for every service.
//!
//! The caller's own bearer token is forwarded, so the document service
//! answers exactly what that applicant or agent may see: a material of
//! another enterprise is as unknown as one that does not exist. A material
//! must also be of the type it is filed under (the material code is the
//! document service's material type). When the document service cannot
//! answer in time the request fails with 503 (and nothing is recorded)
//! rather than accepting references nobody checked.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};
use yizhan_kit::FieldError;

use crate::Error;

/// Most ids the document service looks up in one request.
const LOOKUP_LIMIT: usize = 100;

/// The document service's answer to a lookup.
#[derive(Debug, Deserialize)]
struct Found {
    items: Vec<MaterialInfo>,
}

/// What the check needs of a material.
#[derive(Debug, Deserialize)]
struct MaterialInfo {
    id: String,
    enterprise_uscc: String,
    material_type: String,
    #[serde(default)]
    material_type_name: Option<String>,
    #[serde(default)]
    expired: bool,
}

/// The document service client for material checks.
#[derive(Debug, Clone)]
pub struct MaterialCheck {
    client: reqwest::Client,
    base: Option<String>,
}

impl MaterialCheck {
    /// A checker against the document service at `base` (e.g.
    /// `http://document:8083`); `None` turns checking off (a lone licensing
    /// service in development).
    pub fn new(base: Option<String>, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(yizhan_kit::http::PEER_POOL_IDLE)
            .build()?;
        Ok(Self {
            client,
            base: base.map(|b| b.trim_end_matches('/').to_owned()),
        })
    }

    /// Whether references are checked at all.
    pub fn enabled(&self) -> bool {
        self.base.is_some()
    }

    /// Checks every material of `materials` (code → id) at once: it exists,
    /// the caller (by `authorization`, forwarded) may use it, it belongs to
    /// `uscc`, it is of the type its code names and it has not expired.
    /// Every problem is a field error `materials.<code>`; an unreachable
    /// document service is a 503. Values that are not strings are left to
    /// form validation.
    pub async fn verify(
        &self,
        authorization: Option<&str>,
        uscc: &str,
        materials: &Map<String, Value>,
    ) -> Result<(), Error> {
        let Some(base) = &self.base else {
            return Ok(());
        };
        // The codes filed under each distinct id.
        let mut by_id: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut errors = Vec::new();
        for (code, v) in materials {
            match v.as_str() {
                Some(id) if yizhan_kit::text::is_plausible_id(id) => {
                    by_id.entry(id).or_default().push(code);
                }
                // An empty slot is the form's to judge (required or not).
                Some("") | None => {}
                Some(_) => errors.push(FieldError::new(
                    format!("materials.{code}"),
                    "invalid_material_id",
                    "材料编号格式不正确，请从材料库选择或先上传",
                )),
            }
        }
        // One request per hundred distinct ids (the document service's
        // limit), all at once: a hotel form's 12 are one round trip.
        let ids: Vec<&str> = by_id.keys().copied().collect();
        let answers = futures_util::future::join_all(
            ids.chunks(LOOKUP_LIMIT)
                .map(|chunk| self.lookup(base, authorization, chunk)),
        )
        .await;
        let mut found: BTreeMap<String, MaterialInfo> = BTreeMap::new();
        for answer in answers {
            match answer {
                Ok(items) => found.extend(items.into_iter().map(|m| (m.id.clone(), m))),
                Err(why) => {
                    tracing::warn!(error = %why, "material check failed");
                    return Err(Error::Unavailable {
                        code: "document_unavailable",
                        title: "材料服务暂不可用",
                        detail: "暂时无法核对所引用的材料，未保存，请稍后重试".into(),
                    });
                }
            }
        }
        for (id, codes) in &by_id {
            let Some(m) = found.get(*id) else {
                for c in codes {
                    errors.push(FieldError::new(
                        format!("materials.{c}"),
                        "unknown_material",
                        "材料不存在或无权使用，请先上传到材料库",
                    ));
                }
                continue;
            };
            for c in codes {
                let problem = if m.enterprise_uscc != uscc {
                    Some(("material_not_owned", "该材料不属于申请企业".to_owned()))
                } else if m.material_type != *c {
                    let expected = yizhan_types::material_type::name_of(c).unwrap_or(c);
                    let actual = m
                        .material_type_name
                        .clone()
                        .unwrap_or_else(|| m.material_type.clone());
                    Some((
                        "material_type_mismatch",
                        format!("此处须提交「{expected}」，所选材料是「{actual}」"),
                    ))
                } else if m.expired {
                    Some((
                        "material_expired",
                        "该材料已过有效期，请重新上传".to_owned(),
                    ))
                } else {
                    None
                };
                if let Some((code, message)) = problem {
                    errors.push(FieldError::new(format!("materials.{c}"), code, message));
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }

    /// The materials of `ids` the caller may see (absent and hidden ones
    /// are left out), or why the document service could not say.
    async fn lookup(
        &self,
        base: &str,
        authorization: Option<&str>,
        ids: &[&str],
    ) -> Result<Vec<MaterialInfo>, String> {
        let mut request = self
            .client
            // Ids are letters, digits and `-` (checked): nothing to escape.
            .get(format!("{base}/api/v1/materials?ids={}", ids.join(",")));
        if let Some(a) = authorization {
            request = request.header(reqwest::header::AUTHORIZATION, a);
        }
        // Every id was checked to be plausible, so any refusal (a 401 for
        // a token not good here either, a 422) means the check cannot be
        // made: unavailable rather than "unknown material".
        match yizhan_kit::http_client::send(request, None).await {
            Ok(r) if r.status().is_success() => r
                .json::<Found>()
                .await
                .map(|f| f.items)
                .map_err(|e| format!("materials {ids:?}: {e}")),
            Ok(r) => Err(format!("materials {ids:?}: HTTP {}", r.status())),
            Err(e) => Err(format!("materials {ids:?}: {e}")),
        }
    }
}
