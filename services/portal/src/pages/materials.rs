//! 材料查看: the materials an application references, listed for the
//! clerk's and the reviewer's pages by name, file, size and version (with
//! a warning when two slots hold the very same file), and one material
//! shown in the page (PDF and images inline, anything else offered as a
//! download) through a proxy of the document service that streams the
//! file rather than holding it.
//!
//! Who may see a material: whoever the document service lets read it
//! with the viewer's token (the owner enterprise's applicants and agents,
//! admins, window clerks of an application referencing it, reviewers of a
//! department handling one). The portal adds no rule of its own: the
//! service's 404 is the portal's 404 page.

use actix_web::body::SizedStream;
use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, get, web};
use futures_util::future::join_all;
use serde_json::{Value, json};

use super::applications::id_path;
use super::{PageError, local_path, render};
use crate::AppState;
use crate::queues::urlencode;
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

/// Content types shown in the page; anything else is offered as a file.
const INLINE: [&str; 3] = ["application/pdf", "image/png", "image/jpeg"];

/// A material's metadata as the viewer may see it.
async fn metadata(state: &AppState, token: &str, id: &str) -> Result<Value, UpstreamError> {
    state
        .upstream
        .get(
            Upstream::Document,
            &format!("/api/v1/materials/{}", urlencode(id)),
            Some(token),
        )
        .await
}

/// A size as people read it (字节, KB, MB).
fn size_text(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} 字节"),
        1024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

/// A licensing application's notice (its scenario's, for its answers;
/// `null` when the service does not answer) and its materials listed for
/// a page by [`attached_list`].
pub(crate) async fn of_application(
    state: &AppState,
    viewer: &Viewer,
    app: &Value,
    back: &str,
) -> (Value, Value) {
    let answers = app["answers"].as_object().cloned().unwrap_or_default();
    let notice = super::notice_of(state, &app["scenario_code"], &answers)
        .await
        .unwrap_or(Value::Null);
    let materials =
        attached_list(state, viewer, &notice["materials"], &app["materials"], back).await;
    (notice, materials)
}

/// The materials of an application for a page: one row per slot of
/// `slots` (the catalog's `{code, name, key}` list) with what `attached`
/// (material code → material id) holds there, read from the document
/// service as the viewer (a file the viewer may not read yet, e.g. before
/// the service has heard of the application, is listed without its
/// details). `back` is the page the viewer returns to.
///
/// Answers `{rows, same_files}`: `same_files` lists, for every file held
/// by more than one slot, those slots' names.
pub(crate) async fn attached_list(
    state: &AppState,
    viewer: &Viewer,
    slots: &Value,
    attached: &Value,
    back: &str,
) -> Value {
    let slots: Vec<&Value> = slots.as_array().into_iter().flatten().collect();
    let ids: Vec<Option<&str>> = slots
        .iter()
        .map(|s| {
            s["code"]
                .as_str()
                .and_then(|code| attached[code].as_str())
                .filter(|id| yizhan_kit::text::is_plausible_id(id))
        })
        .collect();
    let read = join_all(ids.iter().map(|id| async move {
        match id {
            Some(id) => metadata(state, &viewer.token, id).await.ok(),
            None => None,
        }
    }))
    .await;
    let back = urlencode(back);
    let mut rows: Vec<Value> = slots
        .iter()
        .zip(ids)
        .zip(read)
        .map(|((slot, id), meta)| {
            let mut row = json!({
                "code": slot["code"],
                "name": slot["name"],
                "key": slot["key"],
                "attached": id.is_some(),
            });
            if let (Some(id), Some(meta)) = (id, meta) {
                row["href"] = json!(format!("/materials/{}?back={back}", urlencode(id)));
                row["filename"] = meta["filename"].clone();
                row["version"] = meta["version"].clone();
                row["size"] = json!(size_text(meta["size_bytes"].as_u64().unwrap_or_default()));
                row["sha256"] = meta["sha256"].clone();
            }
            row
        })
        .collect();
    let same_files = mark_same_files(&mut rows);
    json!({"rows": rows, "same_files": same_files})
}

/// Marks the rows holding a file another row holds too (`same_file`), and
/// answers the groups of slot names, one per such file.
fn mark_same_files(rows: &mut [Value]) -> Vec<Vec<Value>> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let Some(sha) = row["sha256"].as_str().filter(|s| !s.is_empty()) else {
            continue;
        };
        match groups.iter_mut().find(|(s, _)| s == sha) {
            Some((_, members)) => members.push(i),
            None => groups.push((sha.to_owned(), vec![i])),
        }
    }
    groups
        .into_iter()
        .filter(|(_, members)| members.len() > 1)
        .map(|(_, members)| {
            members
                .into_iter()
                .map(|i| {
                    rows[i]["same_file"] = json!(true);
                    rows[i]["name"].clone()
                })
                .collect()
        })
        .collect()
}

/// How a content type is shown: `pdf`, `image`, or `download`.
fn shown_as(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/png" | "image/jpeg" => "image",
        _ => "download",
    }
}

/// `?back=` of the viewer page: the page it was opened from.
#[derive(Debug, serde::Deserialize)]
pub struct ViewQuery {
    back: Option<String>,
}

/// Page: one material, shown inline when it is a PDF or an image.
/// Any signed-in person; the document service decides (404 otherwise).
#[get("/materials/{id}")]
pub async fn view(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    query: web::Query<ViewQuery>,
) -> Result<HttpResponse, PageError> {
    id_path(&id, "材料")?;
    let meta = metadata(&state, &viewer.token, &id).await?;
    let content_type = meta["content_type"].as_str().unwrap_or_default();
    let back = query
        .back
        .as_deref()
        .map(|b| local_path(Some(b)))
        .filter(|b| b != "/");
    render(
        Some(&viewer),
        "material_view.html",
        json!({
            "title": format!("查看材料 · {}", meta["material_type_name"].as_str().unwrap_or_default()),
            "m": meta,
            "size": size_text(meta["size_bytes"].as_u64().unwrap_or_default()),
            "shown_as": shown_as(content_type),
            "file": format!("/materials/{}/file", urlencode(&id)),
            "back": back,
        }),
    )
}

/// A material's file through the portal, with the viewer's token: PDF,
/// PNG and JPEG inline in the type the document service gives, anything
/// else as a download. Any signed-in person; the document service
/// decides (404 otherwise).
#[get("/materials/{id}/file")]
pub async fn file(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    id_path(&id, "材料")?;
    let meta = metadata(&state, &viewer.token, &id).await?;
    let (content_type, length, stream) = state
        .upstream
        .fetch_stream(
            Upstream::Document,
            &format!("/api/v1/materials/{}/content", urlencode(&id)),
            Some(&viewer.token),
        )
        .await?;
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (content_type, disposition) = if INLINE.contains(&essence.as_str()) {
        (essence, DispositionType::Inline)
    } else {
        (
            "application/octet-stream".to_owned(),
            DispositionType::Attachment,
        )
    };
    let filename = meta["filename"].as_str().unwrap_or("material").to_owned();
    let mut response = HttpResponse::Ok();
    response
        .content_type(content_type)
        .insert_header(ContentDisposition {
            disposition,
            parameters: vec![DispositionParam::FilenameExt(header::ExtendedValue {
                charset: header::Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: filename.into_bytes(),
            })],
        })
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"));
    // Passed on as it arrives, never held whole (materials may be large).
    Ok(match length {
        Some(length) => response.body(SizedStream::new(length, stream)),
        None => response.streaming(stream),
    })
}

/// Mounts the material pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(view).service(file);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_text(512), "512 字节");
        assert_eq!(size_text(2048), "2.0 KB");
        assert_eq!(size_text(3 * 1_048_576), "3.0 MB");
    }

    #[test]
    fn only_pdfs_and_images_show_inline() {
        assert_eq!(shown_as("application/pdf"), "pdf");
        assert_eq!(shown_as("image/png"), "image");
        assert_eq!(shown_as("image/jpeg"), "image");
        assert_eq!(shown_as("application/ofd"), "download");
    }

    #[test]
    fn slots_holding_one_file_are_named_together() {
        let mut rows = vec![
            json!({"name": "平面图", "sha256": "aa"}),
            json!({"name": "章程", "sha256": "bb"}),
            json!({"name": "消防方案", "sha256": "aa"}),
            json!({"name": "未提交"}),
        ];
        let groups = mark_same_files(&mut rows);
        assert_eq!(groups, vec![vec![json!("平面图"), json!("消防方案")]]);
        assert_eq!(rows[0]["same_file"], true);
        assert!(rows[1]["same_file"].is_null());
        assert_eq!(rows[2]["same_file"], true);
    }
}
